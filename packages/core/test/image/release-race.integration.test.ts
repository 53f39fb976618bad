import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { FileReleaseLock, OciRegistry, ReleaseIncompleteError, VersionConflictError, assembleIndex, releaseImage, type ReleaseResult } from '../../src';
import { startFaultyProxy, type FaultyProxy } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';
import { tagSnapshot, useLocalRegistry } from '@devcontainer-factory/testing';

// "An existing X.Y.Z never moves" and "latest only moves forward" with two writers
// at once, on a real CNCF distribution registry: in one process, in two processes
// (as two `dcf local run`), and a release that fails midway.

jest.setTimeout(120_000);
const execFileAsync = promisify(execFile);
const RULES = { latest: true, semver: true, date: false };
const ROUNDS = 8;

const local = useLocalRegistry();
let work: string;
let lock: FileReleaseLock;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dcf-race-'));
  lock = new FileReleaseLock({ dir: join(work, 'locks') });
  await import('node:fs/promises').then((fs) => fs.mkdir(join(work, 'locks')));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Pushes an amd64 image for each build and assembles its index `<build>`; returns the index digests. */
async function builds(repository: string, ids: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const id of ids) {
    await pushTestImage(local.host, repository, `${id}-amd64`, 'amd64', { content: `${repository} ${id}` });
    out[id] = (await assembleIndex(local.registry, repository, id, ['linux/amd64'])).digest;
  }
  return out;
}

type Outcome = { ok: true; result: ReleaseResult } | { ok: false; error: Error };
const settle = (p: Promise<ReleaseResult>): Promise<Outcome> =>
  p.then(
    (result) => ({ ok: true as const, result }),
    (error: Error) => ({ ok: false as const, error }),
  );

describe('two releases at once, in one process', () => {
  test(`GIVEN two builds released as 1.0.0 at the same time, ${ROUNDS} rounds, THEN each round exactly one succeeds, the other fails with VersionConflictError, and 1.0.0, 1.0, 1 and latest point at the winner`, async () => {
    const tally = { a: 0, b: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      // GIVEN
      const repository = `devcontainers/images/race-${round}`;
      const digest = await builds(repository, ['a', 'b']);

      // WHEN
      const [a, b] = await Promise.all(
        ['a', 'b'].map((buildId) => settle(releaseImage(local.registry, repository, { buildId, version: '1.0.0', rules: RULES, now: new Date(), lock }))),
      );

      // THEN
      expect([a, b].filter((o) => o.ok)).toHaveLength(1);
      const [winner, loser] = a.ok ? (['a', 'b'] as const) : (['b', 'a'] as const);
      tally[winner]++;
      const failed = (a.ok ? b : a) as { ok: false; error: Error };
      expect(failed.error).toBeInstanceOf(VersionConflictError);
      expect(failed.error).toMatchObject({ version: '1.0.0', releasedDigest: digest[winner], digest: digest[loser] });
      expect(failed.error.message).toBe(
        `1.0.0 is already released as ${digest[winner]}; this build is ${digest[loser]}. A released version never moves: bump the version in customizations['devcontainer-factory'].version`,
      );
      expect(await tagSnapshot(local.registry, repository)).toMatchObject({
        '1.0.0': digest[winner],
        '1.0': digest[winner],
        '1': digest[winner],
        latest: digest[winner],
      });
    }
    expect(tally.a + tally.b).toBe(ROUNDS);
    expect(await readdir(join(work, 'locks'))).toEqual([]);
  });

  test(`GIVEN 1.0.0 and 1.1.0 released at the same time, ${ROUNDS} rounds, THEN both succeed and latest, 1 always end on 1.1.0`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      // GIVEN
      const repository = `devcontainers/images/forward-${round}`;
      const digest = await builds(repository, ['old', 'new']);

      // WHEN
      const [older, newer] = await Promise.all([
        releaseImage(local.registry, repository, { buildId: 'old', version: '1.0.0', rules: RULES, now: new Date(), lock }),
        releaseImage(local.registry, repository, { buildId: 'new', version: '1.1.0', rules: RULES, now: new Date(), lock }),
      ]);

      // THEN
      expect(newer.tags).toEqual(['1.1.0', '1.1', '1', 'latest']);
      expect(older.tags).toEqual(expect.arrayContaining(['1.0.0', '1.0']));
      expect(await tagSnapshot(local.registry, repository)).toEqual({
        old: digest.old,
        'old-amd64': expect.any(String),
        new: digest.new,
        'new-amd64': expect.any(String),
        '1.0.0': digest.old,
        '1.0': digest.old,
        '1.1.0': digest.new,
        '1.1': digest.new,
        '1': digest.new,
        latest: digest.new,
      });
    }
  });
});

describe('two releases at once, in two processes', () => {
  let child: string;
  beforeAll(async () => {
    child = join(work, 'release-child.js');
    await build({
      entryPoints: [join(__dirname, '../support/release-child.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      outfile: child,
      logLevel: 'silent',
    });
  });

  async function runChild(
    repository: string,
    buildId: string,
    startAt: number,
  ): Promise<{ ok: boolean; name?: string; message?: string; result?: ReleaseResult }> {
    // No lock directory: the children use the default lock, as two `dcf local run` processes would.
    const { stdout } = await execFileAsync(process.execPath, [child, local.host, repository, buildId, '1.0.0', String(startAt)], { timeout: 60_000 }).catch(
      (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
    );
    return JSON.parse(stdout.trim().split('\n').pop()!);
  }

  test('GIVEN two processes releasing different builds as 1.0.0 at the same moment, 4 rounds, THEN exactly one succeeds and 1.0.0 and latest point at it', async () => {
    for (let round = 0; round < 4; round++) {
      // GIVEN
      const repository = `devcontainers/images/processes-${round}`;
      const digest = await builds(repository, ['a', 'b']);
      const startAt = Date.now() + 700;

      // WHEN
      const [a, b] = await Promise.all([runChild(repository, 'a', startAt), runChild(repository, 'b', startAt)]);

      // THEN
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      const winner = a.ok ? 'a' : 'b';
      const loser = a.ok ? b : a;
      expect(loser).toMatchObject({
        ok: false,
        name: 'VersionConflictError',
        message: expect.stringContaining(`1.0.0 is already released as ${digest[winner]}`),
      });
      expect(await tagSnapshot(local.registry, repository)).toMatchObject({ '1.0.0': digest[winner], latest: digest[winner] });
    }
  });
});

describe('a release that fails midway', () => {
  let proxy: FaultyProxy;
  beforeAll(async () => {
    proxy = await startFaultyProxy(local.host);
  });
  afterAll(async () => {
    await proxy.close();
  });

  test.each(['status-500', 'reset'] as const)(
    'GIVEN the registry fails from the 3rd tag on (%s) WHEN released THEN ReleaseIncompleteError says 1.0.0, 1.0 moved and 1, latest not; the next run moves the rest',
    async (fault) => {
      // GIVEN
      const repository = `devcontainers/images/midway-${fault}`;
      const digest = await builds(repository, ['m']);
      const client = new OciRegistry({ host: proxy.host, retry: { retries: 0 } });
      proxy.failManifestPutsFrom(proxy.manifestPuts + 3, fault);

      // WHEN
      const failing = releaseImage(client, repository, { buildId: 'm', version: '1.0.0', rules: RULES, now: new Date(), lock });

      // THEN
      await expect(failing).rejects.toThrow(ReleaseIncompleteError);
      await expect(failing).rejects.toMatchObject({ moved: ['1.0.0', '1.0'], notMoved: ['1', 'latest'], digest: digest.m, cause: expect.anything() });
      await expect(failing).rejects.toThrow(
        new RegExp(
          `the release of ${proxy.host}/${repository} \\(${digest.m}\\) failed while tagging 1: moved 1\\.0\\.0, 1\\.0; not moved: 1, latest\\. Run the release again: it moves the tags that are left`,
        ),
      );
      const after = await tagSnapshot(local.registry, repository);
      expect(after).toMatchObject({ '1.0.0': digest.m, '1.0': digest.m });
      expect(after['1']).toBeUndefined();
      expect(after.latest).toBeUndefined();

      // WHEN the registry is back
      proxy.heal();
      const rerun = await releaseImage(client, repository, { buildId: 'm', version: '1.0.0', rules: RULES, now: new Date(), lock });

      // THEN
      expect(rerun).toEqual({ digest: digest.m, tags: ['1.0.0', '1.0', '1', 'latest'], moved: ['1', 'latest'], unchanged: ['1.0.0', '1.0'] });
      expect(await tagSnapshot(local.registry, repository)).toMatchObject({ '1.0.0': digest.m, '1.0': digest.m, '1': digest.m, latest: digest.m });
    },
  );
});
