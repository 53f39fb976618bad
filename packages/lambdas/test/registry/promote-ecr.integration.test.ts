import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import {
  OciRegistry,
  PromotionError,
  VersionConflictError,
  assembleIndex,
  parseManifest,
  promoteBuild,
  releaseImage,
  type Registry,
} from '@devcontainer-factory/core';
import { EcrRegistry } from '../../src/registry/ecr-registry';
import { startFaultyProxy } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';
import { tagSnapshot, useLocalRegistry } from '@devcontainer-factory/testing';

// Staging → promotion on a real CNCF distribution registry: Build, Manifest and Test
// work in <ns>/builds/<id>; Release brings the tested build into <ns>/images/<id>.

jest.setTimeout(60_000);
const RULES = { latest: true, semver: true, date: false };
const local = useLocalRegistry();
let round = 0;

/** A fresh pair of repositories and a two-platform build staged in the first. */
async function stagedBuild(buildId = 'b0b0b0b0b0b0b0b0'): Promise<{ staging: string; release: string; buildId: string; digest: string }> {
  round++;
  const staging = `devcontainers/builds/promote-${round}`;
  const release = `devcontainers/images/promote-${round}`;
  await pushTestImage(local.host, staging, `${buildId}-amd64`, 'amd64', { content: `${staging} amd64` });
  await pushTestImage(local.host, staging, `${buildId}-arm64`, 'arm64', { content: `${staging} arm64` });
  const index = await assembleIndex(local.registry, staging, buildId, ['linux/amd64', 'linux/arm64']);
  return { staging, release, buildId, digest: index.digest };
}

/** Every manifest and blob of the index `<build>` can be read from `repository`, with its bytes checked. */
async function expectComplete(registry: Registry, repository: string, buildId: string, digest: string): Promise<void> {
  const index = (await registry.getManifest(repository, buildId))!;
  expect(index.digest).toBe(digest);
  const parsed = parseManifest(index, buildId);
  if (parsed.kind !== 'index') throw new Error('not an index');
  for (const child of parsed.index.manifests) {
    const image = parseManifest((await registry.getManifest(repository, child.digest))!, child.digest);
    if (image.kind !== 'image') throw new Error('not an image');
    for (const blob of [image.manifest.config, ...image.manifest.layers]) {
      // getBlob checks the bytes against the digest.
      expect((await registry.getBlob(repository, blob.digest)).length).toBe(blob.size);
    }
  }
}

/** A fetch that strips the mount parameters, as a registry that does not mount (ECR without BLOB_MOUNTING) behaves. */
const noMountFetch: typeof fetch = (input, init) => {
  const url = new URL(String(input));
  url.searchParams.delete('mount');
  url.searchParams.delete('from');
  return fetch(url, init);
};

describe('promoteBuild', () => {
  test('GIVEN a two-platform build in staging, WHEN it is promoted, THEN the release repository holds the same index digest, <build>-amd64 and <build>-arm64, and every blob, mounted by the registry; staging is unchanged', async () => {
    // GIVEN
    const { staging, release, buildId, digest } = await stagedBuild();
    const before = await tagSnapshot(local.registry, staging);

    // WHEN
    const result = await promoteBuild(local.registry, staging, release, buildId);

    // THEN
    expect(result).toMatchObject({ digest, alreadyPromoted: false, blobs: { mounted: 4, copied: 0, present: 0 } });
    expect(result.manifests).toHaveLength(2);
    expect(Object.keys(await tagSnapshot(local.registry, release)).sort()).toEqual([buildId, `${buildId}-amd64`, `${buildId}-arm64`]);
    await expectComplete(local.registry, release, buildId, digest);
    expect(await tagSnapshot(local.registry, staging)).toEqual(before);
  });

  test('GIVEN a registry that does not mount, WHEN a build is promoted with 100-byte chunks, THEN every blob is copied in ranges and the release repository reads back byte for byte', async () => {
    // GIVEN
    const { staging, release, buildId, digest } = await stagedBuild();
    const registry = new OciRegistry({ host: local.host, fetch: noMountFetch, copyChunkBytes: 100 });

    // WHEN
    const result = await promoteBuild(registry, staging, release, buildId);

    // THEN
    expect(result.blobs).toEqual({ mounted: 0, copied: 4, present: 0 });
    await expectComplete(local.registry, release, buildId, digest);
  });

  test('GIVEN a promoted build, WHEN it is promoted again, THEN nothing is written (alreadyPromoted)', async () => {
    // GIVEN
    const { staging, release, buildId } = await stagedBuild();
    await promoteBuild(local.registry, staging, release, buildId);

    // WHEN
    const again = await promoteBuild(local.registry, staging, release, buildId);

    // THEN
    expect(again).toMatchObject({ alreadyPromoted: true, manifests: [], blobs: { mounted: 0, copied: 0, present: 0 } });
  });

  test('GIVEN no build in staging, WHEN it is promoted, THEN PromotionError names the staging reference and the release repository stays empty', async () => {
    // GIVEN
    round++;
    const release = `devcontainers/images/promote-${round}`;

    // WHEN / THEN
    await expect(promoteBuild(local.registry, `devcontainers/builds/promote-${round}`, release, 'ffffffffffffffff')).rejects.toThrow(PromotionError);
    await expect(promoteBuild(local.registry, `devcontainers/builds/promote-${round}`, release, 'ffffffffffffffff')).rejects.toThrow(
      /devcontainers\/builds\/promote-\d+:ffffffffffffffff does not exist/,
    );
    expect(await local.registry.listTags(release)).toEqual([]);
  });

  test('GIVEN the registry fails the index put midway, WHEN the build is promoted, THEN the release repository has no <build> index (so nothing is releasable), and a second promotion completes', async () => {
    // GIVEN
    const { staging, release, buildId, digest } = await stagedBuild();
    const proxy = await startFaultyProxy(local.host);
    try {
      const registry = new OciRegistry({ host: proxy.host, retry: { retries: 0 } });
      // The per-arch manifests are puts 1 and 2, the index put 3.
      proxy.failManifestPutsFrom(3, 'status-500');

      // WHEN
      await expect(promoteBuild(registry, staging, release, buildId)).rejects.toThrow(/HTTP 500/);

      // THEN
      expect(await local.registry.getManifest(release, buildId)).toBeUndefined();
      proxy.heal();
      expect((await promoteBuild(registry, staging, release, buildId)).alreadyPromoted).toBe(false);
      await expectComplete(local.registry, release, buildId, digest);
    } finally {
      await proxy.close();
    }
  });
});

describe('releaseImage from staging', () => {
  test('GIVEN a staged build, WHEN it is released with staging, THEN it is promoted and 1.0.0, 1.0, 1 and latest point at its index in the release repository only', async () => {
    // GIVEN
    const { staging, release, buildId, digest } = await stagedBuild();

    // WHEN
    const result = await releaseImage(local.registry, release, { buildId, version: '1.0.0', rules: RULES, now: new Date(), staging });

    // THEN
    expect(result.promotion).toMatchObject({ digest, alreadyPromoted: false });
    const tags = await tagSnapshot(local.registry, release);
    for (const tag of ['1.0.0', '1.0', '1', 'latest']) expect(tags[tag]).toBe(digest);
    expect(Object.keys(await tagSnapshot(local.registry, staging)).sort()).toEqual([buildId, `${buildId}-amd64`, `${buildId}-arm64`]);
  });

  test('GIVEN 1.0.0 released, WHEN another staged build is released as 1.0.0, THEN VersionConflictError and the other build is not promoted', async () => {
    // GIVEN
    const first = await stagedBuild('1111111111111111');
    await releaseImage(local.registry, first.release, { buildId: first.buildId, version: '1.0.0', rules: RULES, now: new Date(), staging: first.staging });
    const other = 'a2a2a2a2a2a2a2a2';
    await pushTestImage(local.host, first.staging, `${other}-amd64`, 'amd64', { content: 'another build' });
    await assembleIndex(local.registry, first.staging, other, ['linux/amd64']);
    const before = await tagSnapshot(local.registry, first.release);

    // WHEN
    const release = releaseImage(local.registry, first.release, { buildId: other, version: '1.0.0', rules: RULES, now: new Date(), staging: first.staging });

    // THEN
    await expect(release).rejects.toThrow(VersionConflictError);
    expect(await tagSnapshot(local.registry, first.release)).toEqual(before);
  });

  test('GIVEN a released build whose staging copy expired, WHEN it is released again, THEN the release reads the index from the release repository and moves nothing', async () => {
    // GIVEN
    const { staging, release, buildId, digest } = await stagedBuild();
    await releaseImage(local.registry, release, { buildId, version: '1.0.0', rules: RULES, now: new Date(), staging });
    for (const tag of await local.registry.listTags(staging)) {
      const stored = await local.registry.getManifest(staging, tag);
      if (stored) await fetch(`http://${local.host}/v2/${staging}/manifests/${stored.digest}`, { method: 'DELETE' });
    }

    // WHEN
    const again = await releaseImage(local.registry, release, { buildId, version: '1.0.0', rules: RULES, now: new Date(), staging });

    // THEN
    expect(again).toMatchObject({ digest, moved: [] });
    expect(again.promotion).toBeUndefined();
  });
});

describe('EcrRegistry.copyBlob', () => {
  const ecr = mockClient(ECRClient);
  afterAll(() => ecr.restore());

  test("GIVEN ECR's OCI endpoint (a real registry standing in) and a GetAuthorizationToken answer, WHEN a build is promoted through EcrRegistry's blob copies, THEN it logs in with the token's user and password and the blobs are mounted", async () => {
    // GIVEN
    const { staging, release, buildId } = await stagedBuild();
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:secret:with:colons').toString('base64') }] });
    // ECR's endpoint asks for Basic credentials: answer 401 until they come, then pass through.
    const seen = new Set<string>();
    const recording: typeof fetch = (input, init) => {
      const authorization = new Headers(init?.headers).get('authorization');
      if (!authorization) return Promise.resolve(new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="ecr"' } }));
      seen.add(authorization);
      return fetch(input, init);
    };
    const ecrRegistry = new EcrRegistry({ client: new ECRClient({ region: 'eu-west-1' }), host: local.host, fetch: recording });

    // WHEN
    const blobs = [];
    const parsed = parseManifest((await local.registry.getManifest(staging, `${buildId}-amd64`))!, 'amd64');
    if (parsed.kind !== 'image') throw new Error('not an image');
    for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) blobs.push(await ecrRegistry.copyBlob(staging, release, blob.digest, blob.size));

    // THEN
    expect(blobs).toEqual(['mounted', 'mounted']);
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
    // The password keeps its colons: only the first one separates it from the user.
    expect([...seen]).toEqual([`Basic ${Buffer.from('AWS:secret:with:colons').toString('base64')}`]);
    expect(await local.registry.hasBlob(release, parsed.manifest.config.digest)).toBe(true);
  });

  test('GIVEN GetAuthorizationToken answers no token, WHEN a blob is copied, THEN a RegistryError says so', async () => {
    // GIVEN
    ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    const ecrRegistry = new EcrRegistry({ client: new ECRClient({ region: 'eu-west-1' }), host: local.host });

    // WHEN / THEN
    await expect(ecrRegistry.copyBlob('a/b', 'c/d', `sha256:${'0'.repeat(64)}`, 1)).rejects.toThrow(/GetAuthorizationToken returned no token/);
  });
});
