import { BatchDeleteImageCommand, BatchGetImageCommand, ECRClient, GetDownloadUrlForLayerCommand, ListImagesCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { RetentionSettingsError, runRetention, retentionSettings } from '../../src/handlers/retention';
import { RetentionIncompleteError } from '@devcontainer-factory/core';
import { REGISTRY_HOST, digestOf, imageManifest, noWait } from './job-fixtures';

const ecr = mockClient(ECRClient);
const RELEASE = 'devcontainers/images/python';
const STAGING = 'devcontainers/builds/python';
const NOW = new Date('2025-03-10T00:00:00Z');
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
const env = { REGISTRY_HOST, RELEASE_REPOSITORY: RELEASE, STAGING_REPOSITORY: STAGING, KEEP_DATE_TAGS: '1', STAGING_MAX_AGE_DAYS: '14' };
const b0 = '0000000000000000';
const b1 = '1111111111111111';
const b2 = '2222222222222222';

/** An ECR in memory: per repository, tags → digest and digest → manifest; configs by digest. */
interface Store {
  repos: Record<string, { tags: Record<string, string>; manifests: Record<string, string> }>;
  configs: Record<string, Buffer>;
}
let store: Store;
let events: string[];

function image(created: Date, arch: string) {
  const { manifest, config } = imageManifest({ architecture: arch, os: 'linux', created: created.toISOString() });
  store.configs[digestOf(config)] = config;
  return manifest;
}
const index = (children: string[]) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: INDEX_TYPE,
    manifests: children.map((m) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digestOf(m),
      size: m.length,
      platform: { os: 'linux', architecture: 'amd64' },
    })),
  });
function put(repo: string, body: string, ...tags: string[]) {
  const r = (store.repos[repo] ??= { tags: {}, manifests: {} });
  r.manifests[digestOf(body)] = body;
  for (const t of tags) r.tags[t] = digestOf(body);
  return digestOf(body);
}

const log = { log: (line: string) => void events.push(`log ${line}`), error: (line: string) => void events.push(`error ${line}`) };
const clients = {
  ecr: new ECRClient({ region: 'eu-west-1' }),
  retry: noWait,
  now: () => NOW,
  log,
  fetch: (async (url: string) => new Response(store.configs[String(url).slice('https://layers/'.length)])) as unknown as typeof fetch,
};
const digests: Record<string, string> = {};

beforeEach(() => {
  ecr.reset();
  store = { repos: {}, configs: {} };
  events = [];
  // Release: b1 is 1.0.0, latest and the newest date tag; b0 has only an older date tag (KEEP_DATE_TAGS 1).
  const m0 = image(new Date('2025-01-01T00:00:00Z'), 'amd64');
  const m1 = image(new Date('2025-03-04T00:00:00Z'), 'amd64');
  digests.m0 = put(RELEASE, m0, `${b0}-amd64`);
  digests.i0 = put(RELEASE, index([m0]), b0, '20250101');
  digests.m1 = put(RELEASE, m1, `${b1}-amd64`);
  digests.i1 = put(RELEASE, index([m1]), b1, '1.0.0', '1.0', '1', 'latest', '20250304');
  // Staging: b1 (released, same digest) and b2 (one day old, not released).
  put(STAGING, m1, `${b1}-amd64`);
  put(STAGING, index([m1]), b1);
  digests.m2 = put(STAGING, image(new Date('2025-03-09T00:00:00Z'), 'amd64'), `${b2}-amd64`);

  ecr.on(ListImagesCommand).callsFake((input) => ({
    imageIds: Object.entries(store.repos[input.repositoryName]?.tags ?? {}).map(([imageTag, imageDigest]) => ({ imageTag, imageDigest })),
  }));
  ecr.on(BatchGetImageCommand).callsFake((input) => {
    const repo = store.repos[input.repositoryName];
    const id = input.imageIds[0];
    const digest = id.imageDigest ?? repo?.tags[id.imageTag];
    const body = digest ? repo?.manifests[digest] : undefined;
    if (!body) return { images: [], failures: [{ imageId: id, failureCode: 'ImageNotFound' }] };
    return { images: [{ imageId: { imageDigest: digest, imageTag: id.imageTag }, imageManifest: body, imageManifestMediaType: JSON.parse(body).mediaType }] };
  });
  ecr.on(GetDownloadUrlForLayerCommand).callsFake((input) => ({ downloadUrl: `https://layers/${input.layerDigest}`, layerDigest: input.layerDigest }));
  ecr.on(BatchDeleteImageCommand).callsFake((input) => {
    const repo = store.repos[input.repositoryName];
    const digest = input.imageIds[0].imageDigest;
    events.push(`delete ${input.repositoryName} ${digest}`);
    for (const [t, d] of Object.entries(repo.tags)) if (d === digest) delete repo.tags[t];
    delete repo.manifests[digest];
    return { imageIds: [{ imageDigest: digest }], failures: [] };
  });
});

const deletes = () => ecr.commandCalls(BatchDeleteImageCommand).map((c) => `${c.args[0].input.repositoryName} ${c.args[0].input.imageIds![0].imageDigest}`);

test('a run with less time left than the stop margin deletes nothing, says what is left for the next run, and succeeds', async () => {
  // WHEN: 60 s left of the function's time-out, less than the 90 s margin.
  const result = await runRetention({}, env, clients, { getRemainingTimeInMillis: () => 60_000 });

  // THEN
  expect(deletes()).toEqual([]);
  expect(result.repositories.map((r) => [r.repository, r.deleted, r.remaining])).toEqual([
    [STAGING, 0, 2],
    [RELEASE, 0, 2],
  ]);
  expect(events).toContain(`log ${RELEASE}: stopped 90 s before the function's time-out with 2 delete(s) left; the next run deletes them`);
});

test('a run with time left deletes everything the plans delete', async () => {
  // WHEN: 14 minutes left.
  const result = await runRetention({}, env, clients, { getRemainingTimeInMillis: () => 840_000 });

  // THEN
  expect(result.repositories.map((r) => [r.deleted, r.remaining])).toEqual([
    [2, 0],
    [2, 0],
  ]);
});

test('a scheduled run logs each plan, then deletes the released staging build and the release beyond the newest date tag, indexes first', async () => {
  // WHEN
  const result = await runRetention({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, env, clients);

  // THEN
  expect(deletes()).toEqual([`${STAGING} ${digests.i1}`, `${STAGING} ${digests.m1}`, `${RELEASE} ${digests.i0}`, `${RELEASE} ${digests.m0}`]);
  expect(result).toEqual({
    dryRun: false,
    repositories: [
      { repository: STAGING, planned: 2, deleted: 2, kept: 1, skipped: 0, remaining: 0 },
      { repository: RELEASE, planned: 2, deleted: 2, kept: 2, skipped: 0, remaining: 0 },
    ],
  });
  // The plan is logged before the first delete of its repository.
  const firstDelete = (repo: string) => events.findIndex((e) => e.startsWith(`delete ${repo}`));
  expect(events.indexOf(`log delete ${digests.i1} (tags ${b1}): build ${b1} is released in ${RELEASE}`)).toBeLessThan(firstDelete(STAGING));
  expect(events.indexOf(`log delete ${digests.i0} (tags ${b0}, 20250101): date tag beyond the newest 1`)).toBeLessThan(firstDelete(RELEASE));
  expect(events).toContain(`log keep ${digests.m2} (tags ${b2}-amd64): build ${b2} was created 2025-03-09, not released`);
  expect(events).toContain(`log ${RELEASE}: deleted 2, kept 2`);
  expect(Object.keys(store.repos[RELEASE].tags).sort()).toEqual(['1', '1.0', '1.0.0', '20250304', b1, `${b1}-amd64`, 'latest'].sort());
});

test('DRY_RUN logs the plans and deletes nothing', async () => {
  const result = await runRetention({}, { ...env, DRY_RUN: 'true' }, clients);
  expect(deletes()).toEqual([]);
  expect(result.repositories.map((r) => [r.planned, r.deleted])).toEqual([
    [2, 0],
    [2, 0],
  ]);
  expect(events).toContain(`log ${RELEASE}: dry run, nothing deleted`);
  expect(events).toContain(`log delete ${digests.i0} (tags ${b0}, 20250101): date tag beyond the newest 1`);
});

test('the event may override a setting of the environment', async () => {
  await runRetention({ DRY_RUN: 'true', KEEP_DATE_TAGS: '5' }, env, clients);
  expect(deletes()).toEqual([]);
  expect(events).toContain(`log ${RELEASE} (release): delete 0, keep 4`);
});

test.each([
  [{ KEEP_DATE_TAGS: '0' }, /KEEP_DATE_TAGS must be a whole number from 1 to 10000, not '0'/],
  [{ STAGING_MAX_AGE_DAYS: '1.5' }, /STAGING_MAX_AGE_DAYS must be a whole number from 1 to 3650, not '1.5'/],
  [{ DRY_RUN: 'yes' }, /DRY_RUN must be 'true' or 'false', not 'yes'/],
  [{ RELEASE_REPOSITORY: '' }, /RELEASE_REPOSITORY is not set/],
])('bad settings %j fail before any ECR call', async (override, message) => {
  await expect(runRetention({}, { ...env, ...override }, clients)).rejects.toThrow(message);
  await expect(runRetention({}, { ...env, ...override }, clients)).rejects.toThrow(RetentionSettingsError);
  expect(ecr.calls()).toHaveLength(0);
});

test('defaults: 10 date tags, 14 days, no dry run', () => {
  expect(retentionSettings({}, { REGISTRY_HOST, RELEASE_REPOSITORY: RELEASE, STAGING_REPOSITORY: STAGING })).toEqual({
    registryHost: REGISTRY_HOST,
    releaseRepository: RELEASE,
    stagingRepository: STAGING,
    keepDateTags: 10,
    stagingMaxAgeDays: 14,
    dryRun: false,
  });
});

test('a delete that ECR refuses fails the run, logged, naming what was deleted and what not', async () => {
  ecr.on(BatchDeleteImageCommand).resolves({ failures: [{ imageId: { imageDigest: digests.i1 }, failureCode: 'InvalidImageDigest', failureReason: 'nope' }] });
  const failing = runRetention({}, env, clients);
  await expect(failing).rejects.toThrow(RetentionIncompleteError);
  await expect(failing).rejects.toThrow(`deleted nothing; not deleted: ${digests.i1}, ${digests.m1}`);
  expect(events.some((e) => e.startsWith(`error retention of ${STAGING} failed:`))).toBe(true);
});
