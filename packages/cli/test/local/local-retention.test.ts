import {
  OciRegistry,
  assembleIndex,
  releaseImage,
  repositoryName,
  stagingRepositoryName,
  startLocalRegistryServer,
  type LocalRegistryServer,
} from '@devcontainer-factory/core';
import { dcfInRepo } from '../support/repo-run';

// `dcf local retention` on the example catalogue, against a real docker-registry
// holding staging builds and releases of the image `base` (pushed here directly:
// no image build needed).

jest.setTimeout(120_000);
const NS = 'devcontainers';
const RELEASE = repositoryName(NS, 'image', 'base');
const STAGING = stagingRepositoryName(NS, 'base');
const DAY = 24 * 3600 * 1000;
const build = (n: number) => `b${String(n).padStart(15, '0')}`;

let server: LocalRegistryServer;
let registry: OciRegistry;

const dcf = dcfInRepo;

/** Pushes `<build>-amd64` (created `created`) into `repository` and assembles `<build>`. */
async function push(repository: string, id: string, created: Date): Promise<string> {
  const config = { architecture: 'amd64', os: 'linux', created: created.toISOString(), rootfs: { type: 'layers', diff_ids: [] } };
  await registry.pushImage(repository, `${id}-amd64`, { config, layers: [{ bytes: Buffer.from(`layer of ${id}`) }] });
  return (await assembleIndex(registry, repository, id, ['linux/amd64'])).digest;
}

async function snapshot(repository: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const tag of (await registry.listTags(repository)).sort()) out[tag] = (await registry.getManifest(repository, tag))!.digest;
  return out;
}

const digest: Record<string, string> = {};
beforeAll(async () => {
  server = await startLocalRegistryServer({});
  registry = new OciRegistry({ host: server.host });
  const now = Date.now();
  // Releases of base on three days (each the newest), each also staged.
  for (let n = 1; n <= 3; n++) {
    const created = new Date(now - (4 - n) * DAY);
    digest[`staged${n}`] = await push(STAGING, build(n), created);
    digest[`released${n}`] = await push(RELEASE, build(n), created);
    await releaseImage(registry, RELEASE, { buildId: build(n), rules: { latest: true, semver: false, date: true }, now: new Date(Date.UTC(2026, 0, n, 12)) });
  }
  // A staged build that was never released: 30 days old.
  digest.old = await push(STAGING, build(9), new Date(now - 30 * DAY));
  // A fresh one.
  digest.fresh = await push(STAGING, build(10), new Date(now - DAY));
});
afterAll(async () => {
  await server?.stop();
});

test('--dry-run prints each plan and deletes nothing', async () => {
  // GIVEN
  const before = { staging: await snapshot(STAGING), release: await snapshot(RELEASE) };

  // WHEN
  const run = await dcf('local', 'retention', 'examples/catalog.yaml', '--registry', server.host, '--dry-run', '--keep-date-tags', '1');

  // THEN
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(`${STAGING} (staging): delete 8, keep 2`);
  expect(run.stdout).toContain(`delete ${digest.staged1} (tags ${build(1)}): build ${build(1)} is released in ${RELEASE}`);
  expect(run.stdout).toContain(`delete ${digest.old} (tags ${build(9)}): build ${build(9)} was created`);
  expect(run.stdout).toContain(`${RELEASE} (release): delete 4, keep 2`);
  expect(run.stdout).toContain(`delete ${digest.released1} (tags 20260101, ${build(1)}): date tag beyond the newest 1`);
  expect(run.stdout).toContain(`keep ${digest.released3} (tags 20260103, ${build(3)}, latest): 20260103, latest`);
  expect(run.stdout).toContain(`${RELEASE} (release): would delete 4, kept 2`);
  expect(run.stdout).toContain('dry run: nothing was deleted');
  // The image without releases of its own (tools) has empty repositories: nothing to do.
  expect(run.stdout).toContain(`${repositoryName(NS, 'image', 'tools')} (release): would delete 0, kept 0`);
  expect({ staging: await snapshot(STAGING), release: await snapshot(RELEASE) }).toEqual(before);
});

test('without --dry-run it deletes what it planned; a second run deletes nothing', async () => {
  // WHEN
  const run = await dcf('local', 'retention', 'examples', '--registry', server.host, '--keep-date-tags', '1', '--staging-days', '14', '--json');

  // THEN
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as {
    dryRun: boolean;
    images: { id: string; repositories: { repository: string; deleted: string[]; kept: string[] }[] }[];
  };
  expect(result.dryRun).toBe(false);
  const base = result.images.find((i) => i.id === 'base')!;
  expect(base.repositories.map((r) => [r.repository, r.deleted.length, r.kept.length])).toEqual([
    [STAGING, 8, 2],
    [RELEASE, 4, 2],
  ]);
  expect(Object.keys(await snapshot(STAGING))).toEqual([build(10), `${build(10)}-amd64`]);
  expect(Object.keys(await snapshot(RELEASE))).toEqual(['20260103', build(3), `${build(3)}-amd64`, 'latest']);
  expect((await registry.getManifest(RELEASE, 'latest'))?.digest).toBe(digest.released3);

  // WHEN run again
  const again = await dcf('local', 'retention', 'examples', '--registry', server.host, '--keep-date-tags', '1');

  // THEN
  expect(again.code).toBe(0);
  expect(again.stdout).toContain(`${STAGING} (staging): deleted 0, kept 2`);
  expect(again.stdout).toContain(`${RELEASE} (release): deleted 0, kept 2`);
});

test.each([
  [['--keep-date-tags', '0'], /--keep-date-tags must be a whole number from 1 to 10000, not '0'/],
  [['--staging-days', 'two'], /--staging-days must be a whole number from 1 to 3650, not 'two'/],
])('bad %j exits 2 with a message', async (flags, message) => {
  const run = await dcf('local', 'retention', 'examples', '--registry', server.host, ...flags);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(message);
});

test('without --registry it exits 2 and says to pass one', async () => {
  const run = await dcf('local', 'retention', 'examples');
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/--registry/);
});
