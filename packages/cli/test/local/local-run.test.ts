import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CatalogError,
  CONFIGURATION_ARTIFACT_TYPE,
  IMAGE_CHECKS,
  OciRegistry,
  SBOM_ARTIFACT_TYPE,
  featureCollectionRepositoryName,
  listReferrers,
  readArtifact,
  readFeatureCollection,
  readImageConfiguration,
  referrersTag,
  repositoryName,
  stagingRepositoryName,
  type CycloneDxBom,
} from '@devcontainer-factory/core';
import { readLocalCatalog } from '../../src/local/local-catalog';
import { REPO_ROOT, dcfInRepo } from '../support/repo-run';
import { hostArch } from '@devcontainer-factory/testing';

/** The architecture of this machine: the one platform dcf local builds here (amd64 or arm64). */
const ARCH = hostArch();

// `dcf local run` on the example catalogue, end to end: the real docker-registry,
// podman and buildah (vfs, chroot), the real devcontainer CLI. About 15 s.

jest.setTimeout(240_000);

const EXAMPLES = join(REPO_ROOT, 'examples');
const NS = 'devcontainers';

const dcf = dcfInRepo;

interface RunJson {
  registry: string;
  registryPid?: number;
  registryDir?: string;
  ok: boolean;
  images: Array<{
    id: string;
    status: string;
    buildId: string;
    digest: string;
    reference: string;
    stages: Array<{ stage: string; status: string; detail: string }>;
  }>;
  features: Array<{ id: string; status: string; version: string; reference: string; stages: Array<{ stage: string; status: string }> }>;
}

describe('dcf local run on the example catalogue', () => {
  let first: RunJson;
  let registry: OciRegistry;

  beforeAll(async () => {
    const run = await dcf('local', 'run', 'examples/catalog.yaml', '--keep-running', '--json');
    if (run.code !== 0) throw new Error(`dcf local run failed (${run.code}):\n${run.stderr}\n${run.stdout}`);
    first = JSON.parse(run.stdout) as RunJson;
    registry = new OciRegistry({ host: first.registry });
  });

  afterAll(async () => {
    if (first?.registryPid) {
      process.kill(first.registryPid, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
    }
    if (first?.registryDir) await rm(first.registryDir, { recursive: true, force: true });
  });

  test('builds, tests and releases each image: an index under <build> and the release tags on it', async () => {
    expect(first.ok).toBe(true);
    expect(first.registry).toMatch(/^localhost:\d+$/);
    expect(first.images.map((i) => [i.id, i.status])).toEqual([
      ['base', 'released'],
      ['tools', 'released'],
      ['greeter', 'released'],
    ]);
    const base = first.images[0];
    expect(base.stages.map((s) => `${s.stage}:${s.status}`)).toEqual([
      'validate:ok',
      'pack:ok',
      'prepare:ok',
      'build:ok',
      'manifest:ok',
      'test:ok',
      'sbom:ok',
      'release:ok',
    ]);
    expect(base.stages.find((s) => s.stage === 'build')!.detail).toContain('linux/arm64 skipped: no emulation');
    // The checks of the cloud Test stage, each named; test.sh says that it ran under buildah, not in a dev container.
    const testDetail = base.stages.find((s) => s.stage === 'test')!.detail;
    for (const check of IMAGE_CHECKS) expect(testDetail).toContain(`${check.id}`);
    expect(testDetail).toMatch(
      /^linux\/(amd64|arm64): platform: linux\/\1; runs: uname -m says (x86_64|aarch64); metadata-label: \d+ entr(y|ies); test-script: test-project\/test\.sh passed/,
    );
    expect(testDetail).toContain(
      'but it ran with buildah run --isolation chroot in a copy of test-project/, not in a dev container started by devcontainer up',
    );

    const baseRepo = repositoryName(NS, 'image', 'base');
    const index = await registry.getManifest(baseRepo, base.buildId);
    expect(index?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(JSON.parse(index!.body.toString()).manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual([ARCH]);
    for (const tag of ['latest', '1.0.0', '1.0', '1']) expect((await registry.getManifest(baseRepo, tag))?.digest).toBe(index!.digest);
    expect((await registry.listTags(baseRepo)).filter((t) => /^\d{8}$/.test(t))).toHaveLength(1);
    expect(base.reference).toBe(`${first.registry}/${baseRepo}:latest`);

    // tools depends on base: built FROM base's latest, released with its own semver and no date tag.
    const toolsRepo = repositoryName(NS, 'image', 'tools');
    const tools = await registry.getManifest(toolsRepo, 'latest');
    expect(tools?.digest).toBe(first.images[1].digest);
    const [toolsAmd64] = (JSON.parse(tools!.body.toString('utf8')) as { manifests: { digest: string }[] }).manifests;
    // The release tags, the build's tags, and the referrers fallback tags of the per-arch image's SBOM and of the index's configuration.
    expect((await registry.listTags(toolsRepo)).sort()).toEqual(
      [
        first.images[1].buildId,
        `${first.images[1].buildId}-${ARCH}`,
        '0',
        '0.1',
        '0.1.0',
        'latest',
        referrersTag(toolsAmd64.digest),
        referrersTag(tools!.digest),
      ].sort(),
    );
  });

  test('builds in the staging repository <ns>/builds/<id>, and Release promotes the tested index into <ns>/images/<id>: same digest, no release tag in staging', async () => {
    const base = first.images[0];
    const staging = stagingRepositoryName(NS, 'base');
    const [image] = (JSON.parse((await registry.getManifest(staging, base.buildId))!.body.toString('utf8')) as { manifests: { digest: string }[] }).manifests;
    // The build, its per-arch image, and the referrers fallback tags of that image's SBOM and of the index's configuration.
    expect((await registry.listTags(staging)).sort()).toEqual(
      [base.buildId, `${base.buildId}-${ARCH}`, referrersTag(image.digest), referrersTag(base.digest)].sort(),
    );
    expect((await registry.getManifest(staging, base.buildId))?.digest).toBe(base.digest);
    expect(base.stages.find((s) => s.stage === 'build')!.detail).toContain(`${staging}:${base.buildId}-${ARCH}`);
    expect(base.stages.find((s) => s.stage === 'release')!.detail).toMatch(
      new RegExp(`^promoted from ${staging} \\(blobs: \\d+ mounted, 0 copied, \\d+ present; 2 referrers\\), released as [^;]*latest[^;]*; moved `),
    );
    // No vulnerability database here: the gate says it was skipped, and what policy the cloud applies.
    expect(base.stages.find((s) => s.stage === 'release')!.detail).toContain(
      "vulnerability gate skipped: dcf local has no scanner (in the cloud Release reads ECR's scan of staging; policy: CRITICAL blocks, 0 allowances)",
    );
  });

  test('leaves an SBOM referrer of every released image, promoted into the release repository: the image, its base and the features it uses', async () => {
    expect(first.images.map((i) => i.id).sort()).toEqual(['base', 'greeter', 'tools']);
    for (const image of first.images) {
      const repository = repositoryName(NS, 'image', image.id);
      const [perArch] = (JSON.parse((await registry.getManifest(repository, 'latest'))!.body.toString('utf8')) as { manifests: { digest: string }[] })
        .manifests;
      const [referrer] = await listReferrers(registry, repository, perArch.digest, SBOM_ARTIFACT_TYPE);
      expect(referrer).toBeDefined();
      const bom = JSON.parse((await readArtifact(registry, repository, referrer)).bytes.toString('utf8')) as CycloneDxBom;
      expect(bom.metadata?.component?.hashes).toEqual([{ alg: 'SHA-256', content: perArch.digest.slice(7) }]);
      const inputs = (bom.components ?? []).flatMap(
        (c) => c.properties?.filter((p) => p.name === 'devcontainer-factory:input').map((p) => `${p.value} ${c.name}`) ?? [],
      );
      expect(inputs).toEqual(expect.arrayContaining([expect.stringMatching(/^base /)]));
      // greeter uses the hello feature; the others install none.
      expect({ image: image.id, feature: inputs.filter((i) => i.startsWith('feature ')) }).toEqual({
        image: image.id,
        feature: image.id === 'greeter' ? [`feature ${first.registry}/${NS}/features/hello`] : [],
      });
    }
  });

  test('leaves on every released index the exact zip it was built from (the one dcf pack writes), and dcf fetch downloads it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dcf-fetch-'));
    try {
      for (const image of first.images) {
        const repository = repositoryName(NS, 'image', image.id);
        const latest = (await registry.getManifest(repository, 'latest'))!;
        expect(image.stages.find((s) => s.stage === 'manifest')!.detail).toContain('configuration kept beside it');
        // What dcf push would upload: the same bytes, the digest the index records.
        const packed = await dcf('pack', `examples/images/${image.id}`, '-o', join(dir, `${image.id}.packed.zip`));
        expect(packed.code).toBe(0);
        const zip = readFileSync(join(dir, `${image.id}.packed.zip`));
        const stored = await readImageConfiguration(registry, repository, latest);
        expect(stored).toMatchObject({
          recorded: true,
          digest: `sha256:${createHash('sha256').update(zip).digest('hex')}`,
          referrer: { artifactType: CONFIGURATION_ARTIFACT_TYPE },
        });
        expect(stored!.bytes.equals(zip)).toBe(true);
        const fetched = await dcf('fetch', `${image.id}@${latest.digest}`, '--registry', first.registry, '-o', join(dir, `${image.id}.fetched.zip`));
        expect(fetched.code).toBe(0);
        expect(readFileSync(join(dir, `${image.id}.fetched.zip`)).equals(zip)).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('publishes the hello feature with the devcontainer CLI and lists it in the collection', async () => {
    expect(first.features).toEqual([
      expect.objectContaining({ id: 'hello', status: 'published', version: '1.0.0', reference: `${first.registry}/${NS}/features/hello:1` }),
    ]);
    expect((await registry.listTags(repositoryName(NS, 'feature', 'hello'))).sort()).toEqual(['1', '1.0', '1.0.0', 'latest']);
    expect((await readFeatureCollection(registry, NS))?.features.map((f) => f.id)).toEqual(['hello']);
    expect(await registry.getManifest(featureCollectionRepositoryName(NS), 'latest')).toBeDefined();
  });

  test('a second run skips build, manifest and test of released images and publishes nothing', async () => {
    const tagsBefore = await registry.listTags(repositoryName(NS, 'image', 'base'));
    const run = await dcf('local', 'run', 'examples', '--registry', first.registry);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /image base\n(.*\n){3} {2}– build +build [0-9a-f]{16} is already released\n {2}– manifest .*\n {2}– test .*\n {2}– sbom .*\n {2}✔ release +promoted from devcontainers\/builds\/base before, released as 1\.0\.0,1\.0,1,latest,\d{8}; every tag already pointed here;/,
    );
    expect(run.stderr).toContain('– publish       version 1.0.0 is already published with this content');
    expect(run.stdout).toMatch(/image +base +unchanged +1\.0\.0 +localhost:\d+\/devcontainers\/images\/base:latest/);
    expect(run.stdout).toMatch(/feature +hello +unchanged +1\.0\.0/);
    expect(await registry.listTags(repositoryName(NS, 'image', 'base'))).toEqual(tagsBefore);
  });
});

describe('dcf local run refuses bad input before starting anything', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcf-local-catalog-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a registry address that is not localhost:<port> is a usage error', async () => {
    const run = await dcf('local', 'run', EXAMPLES, '--registry', 'registry.example.com:5000');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: --registry: 'registry.example.com:5000' is not a local registry address: use localhost:<port>");
  });

  test('usesFeatures naming a feature that is not in the catalogue names it and the fix, before the registry starts', async () => {
    await mkdir(join(dir, 'images', 'app', '.devcontainer'), { recursive: true });
    await writeFile(join(dir, 'images', 'app', '.devcontainer', 'devcontainer.json'), '{ "image": "debian:12" }');
    await writeFile(join(dir, 'catalog.yaml'), 'images:\n  - id: app\n    usesFeatures: [hello]\n');
    const run = await dcf('local', 'run', dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("image 'app' usesFeatures unknown feature 'hello'");
  });

  test('dependsOn on an image that is not in the catalogue names the image and the fix', async () => {
    await mkdir(join(dir, 'images', 'app'), { recursive: true });
    await writeFile(join(dir, 'catalog.yaml'), 'images:\n  - id: app\n    dependsOn: [missing]\n');
    expect(() => readLocalCatalog(dir)).toThrow(CatalogError);
    const run = await dcf('local', 'run', dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("image 'app' dependsOn unknown image 'missing', which is not an image of");
    expect(run.stderr).toContain('add it to images or remove it from dependsOn');
  });

  test('a missing configuration folder says where it was expected', async () => {
    await writeFile(join(dir, 'catalog.yaml'), 'features: [hello]\n');
    const run = await dcf('local', 'run', join(dir, 'catalog.yaml'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`the configuration of feature 'hello' is missing: expected the folder ${join(dir, 'features', 'hello')}`);
  });

  test('images come in build order and a dependsOn cycle is refused', async () => {
    for (const id of ['a', 'b']) {
      await mkdir(join(dir, 'images', id), { recursive: true });
      await writeFile(join(dir, 'images', id, '.devcontainer.json'), '{ "image": "debian:12" }');
    }
    await writeFile(join(dir, 'catalog.yaml'), 'images:\n  - id: a\n    dependsOn: [b]\n  - b\n');
    expect(readLocalCatalog(dir).images.map((i) => i.id)).toEqual(['b', 'a']);
    await writeFile(join(dir, 'catalog.yaml'), 'images:\n  - id: a\n    dependsOn: [b]\n  - id: b\n    dependsOn: [a]\n');
    expect(() => readLocalCatalog(dir)).toThrow(/has a cycle: a -> b -> a/);
  });

  test('a catalogue that is a FIFO is refused at once, not read (it would block forever)', async () => {
    execFileSync('mkfifo', [join(dir, 'catalog.yaml')]);
    const run = await dcf('local', 'run', dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: the catalogue ${join(dir, 'catalog.yaml')} is a FIFO (named pipe): pass a regular catalogue file`);
  }, 10_000);

  test('a catalogue over 1 MiB is refused before it is parsed', async () => {
    await writeFile(join(dir, 'catalog.yaml'), '');
    await truncate(join(dir, 'catalog.yaml'), 1024 * 1024 + 1);
    const run = await dcf('local', 'run', join(dir, 'catalog.yaml'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is 1048577 bytes, over the limit of 1048576');
  });

  test.each([
    [
      'an image "folder" that is a regular file',
      'images:\n  - app\n',
      async () => (await mkdir(join(dir, 'images'), { recursive: true }), writeFile(join(dir, 'images', 'app'), 'not a folder')),
      "the configuration of image 'app' must be a folder, but",
    ],
    [
      'an image folder without devcontainer.json',
      'images:\n  - app\n',
      () => mkdir(join(dir, 'images', 'app', '.devcontainer'), { recursive: true }),
      "the folder of image 'app' (",
    ],
    [
      'a feature folder without devcontainer-feature.json',
      'features: [hello]\n',
      () => mkdir(join(dir, 'features', 'hello'), { recursive: true }),
      'has no devcontainer-feature.json: add it (dcf init feature',
    ],
  ])('%s is refused before the registry starts', async (_name, catalog, setup, message) => {
    await setup();
    await writeFile(join(dir, 'catalog.yaml'), catalog);
    const run = await dcf('local', 'run', dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    // The registry starts after the catalogue is checked: it never printed its address.
    expect(run.stderr).not.toContain('registry localhost:');
  });
});
