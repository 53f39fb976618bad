import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OciRegistry, startLocalRegistryServer, type LocalRegistryServer } from '@devcontainer-factory/core';
import { REPO_ROOT, dcfInRepo } from '../support/repo-run';

// "Rebuild exactly when something an image is made of has changed", on a copy of the
// example catalogue and a real registry: a fresh run builds everything, a second run
// builds nothing, a changed and bumped feature rebuilds exactly the image that uses it
// (and says why), a moved upstream base rebuilds the images built on it.

jest.setTimeout(300_000);

interface RunJson {
  images: { id: string; status: string; buildId?: string; stages: { stage: string; status: string; detail: string }[] }[];
  features: { id: string; status: string }[];
}

let server: LocalRegistryServer;
let catalog: string;

async function run(): Promise<RunJson> {
  const result = await dcfInRepo('local', 'run', catalog, '--registry', server.host, '--json');
  if (result.code !== 0) {
    const failed = (JSON.parse(result.stdout || '{"images":[]}') as RunJson).images.flatMap((i) =>
      i.stages.filter((s) => s.status === 'failed').map((s) => `${i.id} ${s.stage}: ${s.detail}`),
    );
    throw new Error(`dcf local run exited ${result.code}:\n${failed.join('\n').slice(-3000)}\n${result.stderr.slice(-1000)}`);
  }
  return JSON.parse(result.stdout) as RunJson;
}

const statuses = (r: RunJson) => Object.fromEntries(r.images.map((i) => [i.id, i.status]));
const prepareDetail = (r: RunJson, id: string) => r.images.find((i) => i.id === id)!.stages.find((s) => s.stage === 'prepare')!.detail;

beforeAll(async () => {
  server = await startLocalRegistryServer({});
  catalog = await mkdtemp(join(tmpdir(), 'dcf-refresh-'));
  await cp(join(REPO_ROOT, 'examples'), catalog, { recursive: true });
});
afterAll(async () => {
  await server?.stop();
  if (catalog) await rm(catalog, { recursive: true, force: true });
});

test('a fresh run builds everything; a second run builds nothing; a bumped feature rebuilds exactly its user; a moved upstream base rebuilds what is built on it', async () => {
  // GIVEN a fresh registry WHEN the catalogue runs THEN every image is built (features first: greeter uses hello)
  const first = await run();
  expect(statuses(first)).toEqual({ base: 'released', tools: 'released', greeter: 'released' });
  expect(first.features.map((f) => f.status)).toEqual(['published']);

  // WHEN it runs again THEN nothing is built
  const second = await run();
  expect(statuses(second)).toEqual({ base: 'unchanged', tools: 'unchanged', greeter: 'unchanged' });
  expect(prepareDetail(second, 'greeter')).toMatch(/already released: nothing moved/);

  // WHEN hello changes and its version is bumped (its :1 tag moves)
  const feature = join(catalog, 'features/hello');
  const manifest = JSON.parse(await readFile(join(feature, 'devcontainer-feature.json'), 'utf8')) as { version: string };
  await writeFile(join(feature, 'devcontainer-feature.json'), JSON.stringify({ ...manifest, version: '1.1.0' }, null, 2));
  await writeFile(join(feature, 'install.sh'), `${await readFile(join(feature, 'install.sh'), 'utf8')}\n# 1.1.0: a changed install script\n`);
  const third = await run();
  // THEN exactly greeter is rebuilt, with a new build id, and Prepare says why
  expect(statuses(third)).toEqual({ base: 'unchanged', tools: 'unchanged', greeter: 'released' });
  const greeterBefore = first.images.find((i) => i.id === 'greeter')!.buildId;
  expect(third.images.find((i) => i.id === 'greeter')!.buildId).not.toBe(greeterBefore);
  expect(prepareDetail(third, 'greeter')).toMatch(
    new RegExp(`rebuilding: feature ${server.host}/devcontainers/features/hello:1 moved to sha256:[0-9a-f]{12} \\(from sha256:[0-9a-f]{12}\\)`),
  );

  // WHEN the upstream base moves (same layers, a new manifest digest)
  const registry = new OciRegistry({ host: server.host });
  const upstream = (await registry.getManifest('devcontainers/ecr-public/docker/library/busybox', 'latest'))!;
  const moved = { ...(JSON.parse(upstream.body.toString('utf8')) as object), annotations: { 'dev.devcontainer-factory.test': 'upstream moved' } };
  await registry.putManifest('devcontainers/ecr-public/docker/library/busybox', 'latest', upstream.mediaType, Buffer.from(JSON.stringify(moved)));
  const fourth = await run();
  // THEN base is rebuilt because its FROM moved, and the images built on base because base's latest moved
  expect(statuses(fourth)).toEqual({ base: 'released', tools: 'released', greeter: 'released' });
  expect(prepareDetail(fourth, 'base')).toMatch(
    new RegExp(`rebuilding: base ${server.host}/devcontainers/ecr-public/docker/library/busybox:latest moved to sha256:`),
  );
  expect(prepareDetail(fourth, 'tools')).toMatch(new RegExp(`base ${server.host}/devcontainers/images/base:latest moved to sha256:`));
  expect(prepareDetail(fourth, 'greeter')).toMatch(new RegExp(`base ${server.host}/devcontainers/images/base:latest moved to sha256:`));
});
