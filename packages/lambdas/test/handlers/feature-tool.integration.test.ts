import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import {
  DevcontainerCli,
  FeatureVersionConflictError,
  InvalidConfigurationError,
  featureCollectionRepositoryName,
  featureContentDifferences,
  featureContentFromTar,
  packageFeature,
  publishFeature,
  readFeatureCollection,
  readPublishedFeature,
  repositoryName,
} from '@devcontainer-factory/core';
import { tagSnapshot, useLocalRegistry } from '@devcontainer-factory/testing';
import { runFeatureTool } from '../../src/tools/feature-tool/feature-tool';
import { featureUpload } from '@devcontainer-factory/testing';

// A real CNCF distribution registry and the real @devcontainers/cli: publish, tags,
// the version guard and the collection metadata, end to end.

jest.setTimeout(90_000);
const exec = promisify(execFile);
const NS = 'team';
const DEVCONTAINER_BIN = join(__dirname, '../../../../node_modules/.bin/devcontainer');
const devcontainer: DevcontainerCli = { command: DEVCONTAINER_BIN };

const live = useLocalRegistry();

const HELLO = repositoryName(NS, 'feature', 'hello');

/** Every file of the registry's storage: any push (blob upload, manifest, tag) changes it. */
async function storageSnapshot(): Promise<string[]> {
  const storage = live.server.storageDir;
  const entries = await readdir(storage, { recursive: true });
  return entries.map((e) => relative(storage, join(storage, e))).sort();
}

function publish(id: string, version: string, install = `echo ${id}`) {
  return publishFeature({ registry: live.registry, namespace: NS, id, upload: featureUpload(id, version, { install }), devcontainer });
}

async function collectionIds(): Promise<string[]> {
  return (await readFeatureCollection(live.registry, NS))!.features.map((f) => `${f.id}@${f.version}`);
}

describe('publishing features to a real registry with the devcontainer CLI', () => {
  test('a first release tags 1.2.3, 1.2, 1 and latest, and devcontainer tools resolve <registry>/<ns>/features/hello:1', async () => {
    // WHEN
    const result = await publish('hello', '1.2.3');

    // THEN
    expect(result).toMatchObject({ status: 'published', version: '1.2.3' });
    expect([...result.tags].sort()).toEqual(['1', '1.2', '1.2.3', 'latest']);
    const tags = await tagSnapshot(live.registry, HELLO);
    expect(tags).toEqual({ '1': result.digest, '1.2': result.digest, '1.2.3': result.digest, latest: result.digest });
    const published = await readPublishedFeature(live.registry, HELLO, '1');
    expect([...published!.content.keys()].sort()).toEqual(['devcontainer-feature.json', 'install.sh']);
    expect(published!.content.get('install.sh')!.executable).toBe(true);
    expect(published!.metadata).toMatchObject({ id: 'hello', version: '1.2.3' });
    const { stdout } = await exec(DEVCONTAINER_BIN, ['features', 'info', 'manifest', `${live.host}/${HELLO}:1`, '--output-format', 'json']);
    expect(JSON.parse(stdout).canonicalId).toBe(`${live.host}/${HELLO}@${result.digest}`);
    expect(await collectionIds()).toEqual(['hello@1.2.3']);
  });

  test('a newer patch 1.2.4 moves 1.2, 1 and latest and leaves 1.2.3 where it was', async () => {
    // GIVEN
    const before = await tagSnapshot(live.registry, HELLO);

    // WHEN
    const result = await publish('hello', '1.2.4', 'echo hello 1.2.4');

    // THEN
    expect([...result.tags].sort()).toEqual(['1', '1.2', '1.2.4', 'latest']);
    expect(await tagSnapshot(live.registry, HELLO)).toEqual({
      '1': result.digest,
      '1.2': result.digest,
      '1.2.3': before['1.2.3'],
      '1.2.4': result.digest,
      latest: result.digest,
    });
    expect(await collectionIds()).toEqual(['hello@1.2.4']);
  });

  test('a back-port 1.1.9 gets 1.1.9 and 1.1 and moves none of 1, 1.2 and latest; the collection keeps the latest version', async () => {
    // GIVEN
    const before = await tagSnapshot(live.registry, HELLO);

    // WHEN
    const result = await publish('hello', '1.1.9', 'echo hello 1.1.9');

    // THEN
    expect([...result.tags].sort()).toEqual(['1.1', '1.1.9']);
    expect(await tagSnapshot(live.registry, HELLO)).toEqual({ ...before, '1.1': result.digest, '1.1.9': result.digest });
    expect(await collectionIds()).toEqual(['hello@1.2.4']);
  });

  test('re-publishing 1.2.4 with the same content succeeds and pushes nothing', async () => {
    // GIVEN
    const storage = await storageSnapshot();
    expect(storage.length).toBeGreaterThan(20);
    const tags = await tagSnapshot(live.registry, HELLO);

    // WHEN
    const result = await publish('hello', '1.2.4', 'echo hello 1.2.4');

    // THEN
    expect(result).toMatchObject({ status: 'unchanged', digest: tags['1.2.4'], tags: [] });
    expect(result.collection.pushed).toBe(false);
    expect(await storageSnapshot()).toEqual(storage);
    expect(await tagSnapshot(live.registry, HELLO)).toEqual(tags);
  });

  test('changed content under the published version 1.2.4 is refused with a message to bump the version, and the registry is unchanged', async () => {
    // GIVEN
    const storage = await storageSnapshot();

    // WHEN
    const attempt = publish('hello', '1.2.4', 'echo hello, changed');

    // THEN
    await expect(attempt).rejects.toThrow(FeatureVersionConflictError);
    await expect(attempt).rejects.toThrow(
      /team\/features\/hello:1\.2\.4 is already published with different content[\s\S]*Bump "version" in devcontainer-feature.json \(e\.g\. to "1\.2\.5"\)[\s\S]*install\.sh: content changed/,
    );
    expect(await storageSnapshot()).toEqual(storage);
  });

  test('an invalid feature is refused before anything is packaged or pushed', async () => {
    // GIVEN
    const storage = await storageSnapshot();

    // WHEN
    const attempt = publishFeature({ registry: live.registry, namespace: NS, id: 'hello', upload: featureUpload('hullo', '1.3.0'), devcontainer });

    // THEN
    await expect(attempt).rejects.toThrow(InvalidConfigurationError);
    await expect(attempt).rejects.toThrow(/"id" is 'hullo' but the feature is catalogued and uploaded as 'hello'/);
    expect(await storageSnapshot()).toEqual(storage);
  });

  test('the collection lists every published feature of the namespace, not only the one just published', async () => {
    // WHEN
    const world = await publish('world', '0.1.0');

    // THEN
    expect(world.collection).toMatchObject({ pushed: true, features: ['hello', 'world'] });
    expect(await collectionIds()).toEqual(['hello@1.2.4', 'world@0.1.0']);
    const manifest = JSON.parse((await live.registry.getManifest(featureCollectionRepositoryName(NS), 'latest'))!.body.toString());
    expect(manifest.config.mediaType).toBe('application/vnd.devcontainers');
    expect(manifest.layers[0]).toMatchObject({
      mediaType: 'application/vnd.devcontainers.collection.layer.v1+json',
      annotations: { 'org.opencontainers.image.title': 'devcontainer-collection.json' },
    });
  });
});

describe("the devcontainer CLI's feature tarball", () => {
  test('is not byte-reproducible, which is why the guard compares contents', async () => {
    // GIVEN
    const work = await mkdtemp(join(tmpdir(), 'dcf-repro-'));
    try {
      const upload = featureUpload('repro', '1.0.0');

      // WHEN
      const first = await readFile((await packageFeature({ id: 'repro', upload, devcontainer, workDir: join(work, 'a') })).tarball);
      await new Promise((r) => setTimeout(r, 1100));
      const second = await readFile((await packageFeature({ id: 'repro', upload, devcontainer, workDir: join(work, 'b') })).tarball);

      // THEN
      expect(Buffer.compare(first, second)).not.toBe(0);
      expect(featureContentDifferences(featureContentFromTar(first), featureContentFromTar(second))).toEqual([]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('the feature tool, step by step as CodeBuild runs it', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dcf-tool-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function tool(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runFeatureTool(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  /** An extracted upload, as CodeBuild unpacks the source artifact (no execute bits). */
  async function source(name: string, version: string, install: string): Promise<string> {
    const dir = join(work, name);
    await mkdir(join(dir, 'test'), { recursive: true });
    await writeFile(join(dir, 'devcontainer-feature.json'), JSON.stringify({ id: 'greet', version, name: 'Greet' }));
    await writeFile(join(dir, 'install.sh'), install);
    await chmod(join(dir, 'install.sh'), 0o644);
    await writeFile(join(dir, 'test', 'test.sh'), 'greet | grep hi');
    return dir;
  }

  async function run(name: string, version: string, install: string) {
    const src = await source(name, version, install);
    const collection = join(work, `${name}-collection`);
    const pkg = join(work, `${name}-package`);
    const planFile = join(work, `${name}-plan.json`);
    expect(await tool('validate', '--src', src, '--id', 'greet')).toMatchObject({ code: 0 });
    const layout = await tool('layout', '--src', src, '--id', 'greet', '--out', collection);
    await exec(DEVCONTAINER_BIN, ['features', 'package', join(collection, 'src'), '-o', pkg, '-f']);
    const plan = await tool(
      'plan',
      '--registry',
      live.host,
      '--namespace',
      'tool',
      '--id',
      'greet',
      '--tarball',
      join(pkg, 'devcontainer-feature-greet.tgz'),
      '--plan',
      planFile,
    );
    if (plan.code !== 0 || plan.out !== 'publish')
      return { layout, plan, complete: plan.out === 'unchanged' ? await tool('complete', '--registry', live.host, '--plan', planFile) : undefined };
    const { stdout } = await exec(DEVCONTAINER_BIN, ['features', 'publish', '-r', live.host, '-n', 'tool/features', join(collection, 'src')]);
    await writeFile(join(work, `${name}-publish.json`), stdout);
    const complete = await tool('complete', '--registry', live.host, '--plan', planFile, '--publish-output', join(work, `${name}-publish.json`));
    return { layout, plan, complete };
  }

  test('publishes a new version, then skips the same content, then refuses changed content', async () => {
    // WHEN
    const first = await run('first', '1.0.0', 'echo hi');
    const again = await run('again', '1.0.0', 'echo hi');
    const changed = await run('changed', '1.0.0', 'echo hello');

    // THEN
    expect(first.layout.out).toBe(`features test --project-folder ${join(work, 'first-collection')} --features greet --skip-scenarios`);
    expect(first.plan.err).toMatch(/greet 1\.0\.0 is new: publishing it will tag 1\.0\.0, 1\.0, 1, latest/);
    expect(first.complete).toMatchObject({ code: 0 });
    expect(JSON.parse(first.complete!.out)).toMatchObject({ status: 'published', collection: { features: ['greet'] } });
    expect(again.plan.out).toBe('unchanged');
    expect(JSON.parse(again.complete!.out)).toMatchObject({ status: 'unchanged', collection: { pushed: false } });
    expect(changed.plan).toMatchObject({ code: 1, out: '' });
    expect(changed.plan.err).toMatch(/tool\/features\/greet:1\.0\.0 is already published with different content[\s\S]*e\.g\. to "1\.0\.1"/);
    const published = await readPublishedFeature(live.registry, 'tool/features/greet', 'latest');
    expect(published!.content.get('install.sh')!.executable).toBe(true);
  });

  test('an invalid upload fails validate with each problem and its position', async () => {
    // GIVEN
    const src = await source('invalid', '1.0', 'echo hi');

    // WHEN
    const result = await tool('validate', '--src', src, '--id', 'greet');

    // THEN
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/the feature has 1 problem:\n {2}devcontainer-feature\.json:1:25: "version" '1\.0' is not a semantic version/);
  });

  test('a usage error exits with 2 and says what is missing', async () => {
    expect(await tool('plan', '--registry', live.host)).toMatchObject({ code: 2, err: expect.stringMatching(/missing --namespace, --id, --tarball, --plan/) });
    expect(await tool('frobnicate')).toMatchObject({ code: 2, err: expect.stringMatching(/unknown command 'frobnicate'/) });
  });
});
