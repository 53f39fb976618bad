import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileReleaseLock,
  RELEASE_LOCK_TABLE_KEYS,
  applyRetention,
  assembleIndex,
  releaseImage,
  type ReleaseLock,
  type Registry,
} from '@devcontainer-factory/core';
import { DynamoDbReleaseLock } from '../../src/registry/dynamodb-release-lock';
import { MOTO_CLIENT_CONFIG, startMotoServer, type MotoServer } from '../support/moto-server';
import { pushTestImage } from '@devcontainer-factory/testing';
import { useLocalRegistry } from '@devcontainer-factory/testing';

// Release and Retention as the cloud runs them: each in a function of its own, so
// each with its own lock object, on one real registry. Retention plans while a
// release is between promotion (build tags only) and its release tags, and is held
// at its delete until the release has reported success (or 3 s have passed). With
// a lock file per function (what a Lambda's /tmp gives) the release's tags are lost;
// with the DynamoDB lock both honour, nothing the release reported is lost.

jest.setTimeout(120_000);
const local = useLocalRegistry();
let moto: MotoServer;
let work: string;
const TABLE = 'devcontainers-release-lock';

beforeAll(async () => {
  moto = await startMotoServer();
  work = await mkdtemp(join(tmpdir(), 'dcf-race-'));
  const admin = new DynamoDBClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
  clients.push(admin);
  await admin.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: RELEASE_LOCK_TABLE_KEYS.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: RELEASE_LOCK_TABLE_KEYS.partitionKey, KeyType: 'HASH' }],
    }),
  );
});
const clients: DynamoDBClient[] = [];
afterAll(async () => {
  for (const c of clients) c.destroy();
  await moto?.stop();
  await rm(work, { recursive: true, force: true });
});

/** A signal one flow waits for, with a bound. */
function signal(): { fire(): void; wait(ms: number): Promise<boolean> } {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire, wait: (ms) => Promise.race([fired.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]) };
}

let round = 0;
/** Release of a staged build, with Retention of the release repository planned and applied in the middle of it. */
async function race(releaseLock: ReleaseLock, retentionLock: ReleaseLock) {
  round++;
  const staging = `devcontainers/builds/race-${round}`;
  const release = `devcontainers/images/race-${round}`;
  const buildId = `c${String(round).padStart(15, '0')}`;
  await pushTestImage(local.host, staging, `${buildId}-amd64`, 'amd64', { content: `${staging} amd64` });
  await pushTestImage(local.host, staging, `${buildId}-arm64`, 'arm64', { content: `${staging} arm64` });
  await assembleIndex(local.registry, staging, buildId, ['linux/amd64', 'linux/arm64']);
  const promoted = signal();
  const rechecked = signal();
  const released = signal();
  // The release's registry: says when promotion has put the build tag `<build>` in the release
  // repository, and holds its first release tag until Retention has re-read the tags (at most 3 s).
  let held = false;
  const releasing: Registry = Object.create(local.registry, {
    putManifest: {
      value: async (repository: string, tag: string | undefined, mediaType: string, body: Buffer) => {
        const own = tag === undefined || tag === buildId || tag.startsWith(`${buildId}-`);
        if (repository === release && !own && !held) {
          held = true;
          await rechecked.wait(3000);
        }
        const digest = await local.registry.putManifest(repository, tag, mediaType, body);
        if (repository === release && tag === buildId) promoted.fire();
        return digest;
      },
    },
  });
  // Retention's registry: says when it has re-read the tags before its first delete (its second
  // listing), and holds each delete until the release has finished (at most 3 s).
  let listings = 0;
  const retaining: Registry = Object.create(local.registry, {
    listTags: {
      value: async (repository: string) => {
        const tags = await local.registry.listTags(repository);
        if (++listings === 2) rechecked.fire();
        return tags;
      },
    },
    deleteManifest: {
      value: async (repository: string, digest: string) => {
        await released.wait(3000);
        return local.registry.deleteManifest(repository, digest);
      },
    },
  });
  const releaseRun = releaseImage(releasing, release, {
    buildId,
    staging,
    rules: { latest: true, semver: true, date: true },
    version: '1.0.0',
    now: new Date('2026-12-01T00:00:00Z'),
    lock: releaseLock,
  }).finally(() => released.fire());
  const retentionRun = (async () => {
    if (!(await promoted.wait(30_000))) throw new Error('the release never promoted');
    return applyRetention(retaining, release, { kind: 'release', keepDateTags: 10, now: new Date('2026-12-01T00:00:00Z'), lock: retentionLock });
  })();
  const [result, retention] = await Promise.all([releaseRun, retentionRun]);
  const after = new Map<string, string | undefined>();
  for (const tag of result.tags) after.set(tag, (await local.registry.getManifest(release, tag))?.digest);
  return { result, retention, after };
}

test('GIVEN Release and Retention each with a lock file of its own function WHEN Retention deletes during the release THEN tags the release reported are gone (the hazard the shared lock removes)', async () => {
  const { result, retention, after } = await race(
    new FileReleaseLock({ dir: await mkdtemp(join(work, 'release-')) }),
    new FileReleaseLock({ dir: await mkdtemp(join(work, 'retention-')) }),
  );
  expect(result.tags).toEqual(['1.0.0', '1.0', '1', 'latest', '20261201']);
  expect(retention.deleted.map((e) => e.digest)).toContain(result.digest);
  expect([...after.values()]).toEqual(result.tags.map(() => undefined));
});

test('GIVEN Release and Retention each with its own DynamoDB lock on one table WHEN Retention runs during the release THEN every tag the release reported points at its build, and Retention deleted nothing of it', async () => {
  const client = () => clients[clients.push(new DynamoDBClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint })) - 1];
  const lock = (holder: string) => new DynamoDbReleaseLock({ client: client(), tableName: TABLE, holder, pollMs: 50 });
  const { result, retention, after } = await race(lock('release'), lock('retention'));
  expect(result.tags).toEqual(['1.0.0', '1.0', '1', 'latest', '20261201']);
  expect(Object.fromEntries(after)).toEqual(Object.fromEntries(result.tags.map((t) => [t, result.digest])));
  expect(retention.deleted).toEqual([]);
  expect(retention.skipped.map((s) => s.entry.digest)).toContain(result.digest);
  expect(retention.skipped.find((s) => s.entry.digest === result.digest)?.reason).toMatch(/^kept now: .*1\.0\.0.*latest/);
});
