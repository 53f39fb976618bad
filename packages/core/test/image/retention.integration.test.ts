import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileReleaseLock,
  OciRegistry,
  RegistryHttpError,
  RetentionIncompleteError,
  applyRetention,
  assembleIndex,
  formatRetentionPlan,
  parseManifest,
  planRetention,
  releaseImage,
  type Registry,
  type RetentionPlan,
} from '../../src';
import { pushTestImage } from '@devcontainer-factory/testing';
import { tagSnapshot, useLocalRegistry } from '@devcontainer-factory/testing';

// Retention on a real CNCF distribution registry (deletes enabled): plan, apply,
// apply again; a staging repository; a registry that fails midway.

jest.setTimeout(120_000);
const local = useLocalRegistry();
let work: string;
let lock: FileReleaseLock;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dcf-retention-'));
  await mkdir(join(work, 'locks'));
  lock = new FileReleaseLock({ dir: join(work, 'locks') });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const day = (d: number) => new Date(Date.UTC(2026, 0, d, 12));
const build = (n: number) => `a${String(n).padStart(15, '0')}`;

/** Pushes `<build>-amd64` and `<build>-arm64` and assembles `<build>`; `amd64From` reuses another build's amd64 content (same digest). */
async function assemble(repository: string, id: string, amd64From?: string): Promise<string> {
  await pushTestImage(local.host, repository, `${id}-amd64`, 'amd64', { content: `${amd64From ?? id} amd64` });
  await pushTestImage(local.host, repository, `${id}-arm64`, 'arm64', { content: `${id} arm64` });
  return (await assembleIndex(local.registry, repository, id, ['linux/amd64', 'linux/arm64'])).digest;
}

async function release(repository: string, id: string, version: string | undefined, now: Date, amd64From?: string): Promise<string> {
  const digest = await assemble(repository, id, amd64From);
  await releaseImage(local.registry, repository, {
    buildId: id,
    ...(version ? { version } : {}),
    rules: { latest: true, semver: true, date: true },
    now,
    lock,
  });
  return digest;
}

/** Every child of every kept index can still be pulled by digest, and every kept tag still points at its digest. */
async function expectKeptIntact(registry: Registry, repository: string, plan: RetentionPlan): Promise<void> {
  for (const entry of plan.keep) {
    for (const tag of entry.tags) expect([tag, (await registry.getManifest(repository, tag))?.digest]).toEqual([tag, entry.digest]);
    const stored = await registry.getManifest(repository, entry.digest);
    expect(stored?.digest).toBe(entry.digest);
    const parsed = parseManifest(stored!, entry.digest);
    if (parsed.kind !== 'index') continue;
    for (const child of parsed.index.manifests)
      expect([entry.digest, (await registry.getManifest(repository, child.digest))?.digest]).toEqual([entry.digest, child.digest]);
  }
}

describe('a release repository with releases, back-ports and more date tags than kept', () => {
  const repository = 'devcontainers/images/retained';
  const digest: Record<string, string> = {};
  const snapshot: { before: Record<string, string> } = { before: {} };

  beforeAll(async () => {
    // 1.0.0, 1.1.0, 2.0.0; back-ports 1.1.1 and 1.0.1 (they take no date tag); then four
    // releases without a version, each on its own day; and a build that was never released.
    digest.v100 = await release(repository, build(1), '1.0.0', day(1));
    digest.v110 = await release(repository, build(2), '1.1.0', day(2));
    digest.v200 = await release(repository, build(3), '2.0.0', day(3));
    digest.v111 = await release(repository, build(4), '1.1.1', day(4));
    digest.v101 = await release(repository, build(5), '1.0.1', day(5));
    digest.n6 = await release(repository, build(6), undefined, day(6));
    // n7's amd64 image is n6's: one manifest, tagged only `<n6>-amd64` and `<n7>-amd64`, referenced by n7.
    digest.n7 = await release(repository, build(7), undefined, day(7), build(6));
    digest.n8 = await release(repository, build(8), undefined, day(8));
    digest.n9 = await release(repository, build(9), undefined, day(9));
    digest.unreleased = await assemble(repository, build(10));
    snapshot.before = await tagSnapshot(local.registry, repository);
  });

  test('GIVEN keepDateTags 3 WHEN planned THEN it keeps every X.Y.Z, X.Y, X, latest, the newest 3 date tags and every per-arch image of a kept index, deletes exactly the rest, and deletes nothing', async () => {
    // WHEN
    const plan = await planRetention(local.registry, repository, { kind: 'release', keepDateTags: 3, now: day(10) });

    // THEN: nothing deleted by planning
    expect(await tagSnapshot(local.registry, repository)).toEqual(snapshot.before);
    const before = snapshot.before;
    expect(before).toMatchObject({
      '1.0.0': digest.v100,
      '1.0.1': digest.v101,
      '1.0': digest.v101,
      '1.1.0': digest.v110,
      '1.1.1': digest.v111,
      '1.1': digest.v111,
      '1': digest.v111,
      '2.0.0': digest.v200,
      '2.0': digest.v200,
      '2': digest.v200,
      latest: digest.n9,
      '20260101': digest.v100,
      '20260106': digest.n6,
      '20260109': digest.n9,
    });
    expect(before['20260104']).toBeUndefined(); // a back-port takes no date tag

    // Deletes: n6's index (its only release tag is a date tag beyond the newest 3) and its
    // arm64 image; the never-released build and its images. Not n6's amd64: n7 references it.
    const expectedDeletes = [
      { digest: digest.n6, tags: ['20260106', build(6)].sort(), kind: 'index' },
      { digest: digest.unreleased, tags: [build(10)], kind: 'index' },
      { digest: before[`${build(6)}-arm64`], tags: [`${build(6)}-arm64`], kind: 'image' },
      { digest: before[`${build(10)}-amd64`], tags: [`${build(10)}-amd64`], kind: 'image' },
      { digest: before[`${build(10)}-arm64`], tags: [`${build(10)}-arm64`], kind: 'image' },
    ];
    expect(plan.delete.map(({ digest: d, tags, kind }) => ({ digest: d, tags, kind }))).toEqual(expect.arrayContaining(expectedDeletes));
    expect(plan.delete).toHaveLength(expectedDeletes.length);
    // Indexes go first.
    expect(plan.delete.map((e) => e.kind)).toEqual(['index', 'index', 'image', 'image', 'image']);

    // Every tag of the repository is accounted for exactly once.
    const planned = [...plan.keep, ...plan.delete].flatMap((e) => e.tags).sort();
    expect(planned).toEqual(Object.keys(before).sort());
    const kept = new Set(plan.keep.map((e) => e.digest));
    for (const tag of ['1.0.0', '1.0.1', '1.0', '1.1.0', '1.1.1', '1.1', '1', '2.0.0', '2.0', '2', 'latest', '20260107', '20260108', '20260109']) {
      expect([tag, kept.has(before[tag])]).toEqual([tag, true]);
    }
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9]) {
      for (const arch of ['amd64', 'arm64']) expect([n, arch, kept.has(before[`${build(n)}-${arch}`])]).toEqual([n, arch, true]);
    }
    const shared = plan.keep.find((e) => e.digest === before[`${build(6)}-amd64`])!;
    expect(shared.tags).toEqual([`${build(6)}-amd64`, `${build(7)}-amd64`]);
    expect(shared.reason).toMatch(/^referenced by kept index sha256:[0-9a-f]{12}… \(20260107, a000000000000007\)$/);

    // The human lines.
    const lines = formatRetentionPlan(plan);
    expect(lines[0]).toBe(`${repository} (release): delete 5, keep ${plan.keep.length}`);
    expect(lines).toContain(`delete ${digest.n6} (tags 20260106, ${build(6)}): date tag beyond the newest 3`);
    expect(lines).toContain(`delete ${digest.unreleased} (tags ${build(10)}): not released under a kept tag (only build tags)`);
    expect(lines).toContain(`keep ${digest.v100} (tags 1.0.0, 20260101, ${build(1)}): 1.0.0; 20260101 beyond the newest 3 date tags, kept: also tagged 1.0.0`);
    expect(lines).toContain(`keep ${digest.n9} (tags 20260109, ${build(9)}, latest): 20260109, latest`);
  });

  test('WHEN applied THEN exactly the planned manifests are gone, every kept tag resolves, every child of a kept index can be pulled; applying again deletes nothing', async () => {
    // GIVEN
    const plan = await planRetention(local.registry, repository, { kind: 'release', keepDateTags: 3, now: day(10) });

    // WHEN
    const result = await applyRetention(local.registry, repository, plan);

    // THEN
    expect(result.deleted.map((e) => e.digest)).toEqual(plan.delete.map((e) => e.digest));
    expect(result.skipped).toEqual([]);
    const after = await tagSnapshot(local.registry, repository);
    const gone = new Set(plan.delete.flatMap((e) => e.tags));
    expect(after).toEqual(Object.fromEntries(Object.entries(snapshot.before).filter(([t]) => !gone.has(t))));
    for (const entry of plan.delete) expect(await local.registry.getManifest(repository, entry.digest)).toBeUndefined();
    await expectKeptIntact(local.registry, repository, plan);

    // WHEN applied again
    const again = await applyRetention(local.registry, repository, { kind: 'release', keepDateTags: 3, now: day(10), lock });

    // THEN
    expect(again.deleted).toEqual([]);
    expect(again.plan.delete).toEqual([]);
    expect(await tagSnapshot(local.registry, repository)).toEqual(after);
  });
});

describe('a release repository where an 8-digit tag is a major version', () => {
  test('GIVEN 20260101.0.0 and its major tag 20260101 WHEN planned with keepDateTags 1 THEN 20260101 is a semver tag, not a date tag', async () => {
    // GIVEN
    const repository = 'devcontainers/images/calendar-major';
    const d = await release(repository, build(1), '20260101.0.0', day(20));
    await release(repository, build(2), undefined, day(21));
    await release(repository, build(3), undefined, day(22));

    // WHEN
    const plan = await planRetention(local.registry, repository, { kind: 'release', keepDateTags: 1, now: day(23) });

    // THEN
    const entry = plan.keep.find((e) => e.digest === d)!;
    expect(entry.reason).toBe('20260101, 20260101.0, 20260101.0.0; 20260120 beyond the newest 1 date tags, kept: also tagged 20260101.0.0');
    expect(plan.delete.map((e) => e.tags)).toContainEqual(['20260121', build(2)]);
  });
});

/** Pushes a per-arch image whose config says when it was created. */
async function pushStaged(repository: string, tag: string, arch: 'amd64' | 'arm64', created: Date | undefined, content: string) {
  const config = {
    architecture: arch,
    os: 'linux',
    ...(arch === 'arm64' ? { variant: 'v8' } : {}),
    ...(created ? { created: created.toISOString() } : {}),
    rootfs: { type: 'layers', diff_ids: [] },
  };
  return local.registry.pushImage(repository, tag, { config, layers: [{ bytes: Buffer.from(`layer ${content}`) }] });
}

describe('a staging repository', () => {
  const staging = 'devcontainers/builds/staged';
  const releases = 'devcontainers/images/staged';
  const now = new Date('2026-03-01T00:00:00Z');
  const daysAgo = (n: number) => new Date(now.getTime() - n * 24 * 3600 * 1000);
  const ids = { old: build(21), fresh: build(22), released: build(23), otherDigest: build(24), noAge: build(25), orphan: build(26) };
  const digest: Record<string, string> = {};

  beforeAll(async () => {
    // Old (20 days), both platforms; its arm64 image is also the registry cache `buildcache-arm64`.
    await pushStaged(staging, `${ids.old}-amd64`, 'amd64', daysAgo(20), 'old amd64');
    const oldArm = await pushStaged(staging, `${ids.old}-arm64`, 'arm64', daysAgo(20), 'old arm64');
    await local.registry.putManifest(staging, 'buildcache-arm64', oldArm.mediaType, oldArm.body);
    digest.old = (await assembleIndex(local.registry, staging, ids.old, ['linux/amd64', 'linux/arm64'])).digest;
    // Fresh (2 days), not released.
    await pushStaged(staging, `${ids.fresh}-amd64`, 'amd64', daysAgo(2), 'fresh');
    digest.fresh = (await assembleIndex(local.registry, staging, ids.fresh, ['linux/amd64'])).digest;
    // Released (1 day): the same images and index in the release repository.
    for (const repo of [staging, releases]) await pushStaged(repo, `${ids.released}-amd64`, 'amd64', daysAgo(1), 'released');
    digest.released = (await assembleIndex(local.registry, staging, ids.released, ['linux/amd64'])).digest;
    expect((await assembleIndex(local.registry, releases, ids.released, ['linux/amd64'])).digest).toBe(digest.released);
    await releaseImage(local.registry, releases, { buildId: ids.released, version: '1.0.0', rules: { latest: true, semver: true, date: false }, now, lock });
    // Its `<build>` tag exists in the release repository, at another digest: not released.
    await pushStaged(staging, `${ids.otherDigest}-amd64`, 'amd64', daysAgo(3), 'other staging');
    digest.otherDigest = (await assembleIndex(local.registry, staging, ids.otherDigest, ['linux/amd64'])).digest;
    await pushStaged(releases, `${ids.otherDigest}-amd64`, 'amd64', daysAgo(3), 'other release');
    await assembleIndex(local.registry, releases, ids.otherDigest, ['linux/amd64']);
    // No `created` in its config: age unknown.
    await pushStaged(staging, `${ids.noAge}-amd64`, 'amd64', undefined, 'no age');
    // A per-arch image whose build never got an index, 30 days old.
    await pushStaged(staging, `${ids.orphan}-arm64`, 'arm64', daysAgo(30), 'orphan');
  });

  test('GIVEN builds old, fresh, released, released-elsewhere, of unknown age WHEN planned and applied THEN only the released and the old builds are deleted, and the registry cache stays', async () => {
    // WHEN
    const options = { kind: 'staging', maxAgeDays: 14, now, releaseRepository: releases, lock } as const;
    const before = await tagSnapshot(local.registry, staging);
    const plan = await planRetention(local.registry, staging, options);

    // THEN
    expect(await tagSnapshot(local.registry, staging)).toEqual(before);
    expect(plan.delete.map((e) => ({ tags: e.tags, kind: e.kind }))).toEqual([
      { tags: [ids.old], kind: 'index' },
      { tags: [ids.released], kind: 'index' },
      { tags: [`${ids.old}-amd64`], kind: 'image' },
      { tags: [`${ids.released}-amd64`], kind: 'image' },
      { tags: [`${ids.orphan}-arm64`], kind: 'image' },
    ]);
    const reasons = Object.fromEntries(plan.delete.map((e) => [e.tags[0], e.reason]));
    expect(reasons[ids.released]).toBe(`build ${ids.released} is released in ${releases}`);
    expect(reasons[ids.old]).toBe(`build ${ids.old} was created 2026-02-09, more than 14 days ago`);
    expect(reasons[`${ids.orphan}-arm64`]).toBe(`build ${ids.orphan} was created 2026-01-30, more than 14 days ago`);
    const keptTags = plan.keep.flatMap((e) => e.tags).sort();
    expect(keptTags).toEqual(
      [ids.fresh, `${ids.fresh}-amd64`, ids.otherDigest, `${ids.otherDigest}-amd64`, `${ids.noAge}-amd64`, 'buildcache-arm64', `${ids.old}-arm64`].sort(),
    );
    expect(plan.keep.find((e) => e.tags.includes('buildcache-arm64'))!.reason).toBe('buildcache-arm64: not a build tag');
    expect(plan.keep.find((e) => e.tags.includes(`${ids.noAge}-amd64`))!.reason).toMatch(/age unknown/);

    // WHEN applied, twice
    const result = await applyRetention(local.registry, staging, plan);
    const again = await applyRetention(local.registry, staging, options);

    // THEN
    expect(result.deleted).toHaveLength(5);
    expect(again.deleted).toEqual([]);
    expect(Object.keys(await tagSnapshot(local.registry, staging)).sort()).toEqual(keptTags);
    await expectKeptIntact(local.registry, staging, plan);
    // The release repository is untouched.
    expect((await local.registry.getManifest(releases, ids.released))?.digest).toBe(digest.released);
  });
});

/** A registry that fails its `failAt`-th delete (1-based) with an HTTP 500, as a registry that died midway would. */
function failingDeletes(inner: OciRegistry, failAt: number): Registry & { deletes: number } {
  const wrapper = {
    host: inner.host,
    deletes: 0,
    getManifest: inner.getManifest.bind(inner),
    putManifest: inner.putManifest.bind(inner),
    getBlob: inner.getBlob.bind(inner),
    listTags: inner.listTags.bind(inner),
    async deleteManifest(repository: string, digest: string) {
      wrapper.deletes++;
      if (wrapper.deletes === failAt)
        throw new RegistryHttpError(`DELETE manifest ${repository}@${digest} failed: HTTP 500 UNKNOWN: injected failure`, 500, 'UNKNOWN');
      await inner.deleteManifest(repository, digest);
    },
  };
  return wrapper;
}

describe('a retention run that fails midway', () => {
  test('GIVEN the registry fails the 2nd delete WHEN applied THEN RetentionIncompleteError names what was deleted and what not; the next run deletes the rest', async () => {
    // GIVEN
    const repository = 'devcontainers/images/midway';
    for (let n = 1; n <= 4; n++) await release(repository, build(30 + n), undefined, day(n));
    const options = { kind: 'release', keepDateTags: 1, now: day(10), lock } as const;
    const plan = await planRetention(local.registry, repository, options);
    expect(plan.delete.length).toBe(9); // 3 indexes, 6 per-arch images
    const planned = plan.delete.map((e) => e.digest);

    // WHEN
    const failing = applyRetention(failingDeletes(local.registry, 2), repository, options);

    // THEN
    await expect(failing).rejects.toThrow(RetentionIncompleteError);
    await expect(failing).rejects.toMatchObject({ deleted: [planned[0]], notDeleted: planned.slice(1), cause: expect.any(RegistryHttpError) });
    await expect(failing).rejects.toThrow(
      `retention of ${local.host}/${repository} failed while deleting ${planned[1]}: deleted ${planned[0]}; not deleted: ${planned.slice(1).join(', ')}. ` +
        'Run retention again: it deletes what is left. Cause: DELETE manifest',
    );
    expect(await local.registry.getManifest(repository, planned[0])).toBeUndefined();
    expect(await local.registry.getManifest(repository, planned[1])).toBeDefined();

    // WHEN run again on a healthy registry
    const rerun = await applyRetention(local.registry, repository, options);

    // THEN
    expect(rerun.deleted.map((e) => e.digest).sort()).toEqual(planned.slice(1).sort());
    expect((await applyRetention(local.registry, repository, options)).deleted).toEqual([]);
    expect(await tagSnapshot(local.registry, repository)).toEqual({
      latest: expect.any(String),
      '20260104': expect.any(String),
      [build(34)]: expect.any(String),
      [`${build(34)}-amd64`]: expect.any(String),
      [`${build(34)}-arm64`]: expect.any(String),
    });
  });
});

describe('OciRegistry.deleteManifest', () => {
  let server: Server;
  let host: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(405, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
    host = `localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('GIVEN a manifest that is gone already WHEN deleted THEN it succeeds (404 is fine)', async () => {
    await expect(local.registry.deleteManifest('devcontainers/images/retained', `sha256:${'0'.repeat(64)}`)).resolves.toBeUndefined();
  });

  test('GIVEN a registry with deletes off (405 UNSUPPORTED) WHEN deleted THEN the error says deletes are off there', async () => {
    const registry = new OciRegistry({ host, retry: { retries: 0 } });
    const failing = registry.deleteManifest('devcontainers/images/x', `sha256:${'1'.repeat(64)}`);
    await expect(failing).rejects.toMatchObject({ status: 405, code: 'UNSUPPORTED' });
    await expect(failing).rejects.toThrow(
      /HTTP 405 UNSUPPORTED: deletes are switched off on that registry \(for the CNCF distribution registry: storage\.delete\.enabled: true/,
    );
  });

  test('GIVEN a tag instead of a digest WHEN deleted THEN it refuses without a request', async () => {
    await expect(local.registry.deleteManifest('devcontainers/images/retained', 'latest')).rejects.toThrow(/deletes go by digest/);
  });
});

describe('a manifest that gains a kept tag while retention runs', () => {
  test('GIVEN a release tags a planned index right before its delete WHEN applied THEN that index and its per-arch images are skipped and the rest is deleted', async () => {
    // GIVEN
    const repository = 'devcontainers/images/late-tag';
    for (let n = 1; n <= 3; n++) await release(repository, build(40 + n), undefined, day(n));
    const options = { kind: 'release', keepDateTags: 1, now: day(10), lock } as const;
    const plan = await planRetention(local.registry, repository, options);
    const target = plan.delete.find((e) => e.tags.includes(build(41)))!;
    const stored = (await local.registry.getManifest(repository, target.digest))!;
    let listings = 0;
    const registry: Registry = {
      host: local.registry.host,
      getManifest: (r, ref) => local.registry.getManifest(r, ref),
      putManifest: (r, t, m, b) => local.registry.putManifest(r, t, m, b),
      getBlob: (r, d) => local.registry.getBlob(r, d),
      deleteManifest: (r, d) => local.registry.deleteManifest(r, d),
      async listTags(r) {
        // The second listing is the re-check before the first delete: tag the index first.
        if (++listings === 2) await local.registry.putManifest(r, '0.9.0', stored.mediaType, stored.body);
        return local.registry.listTags(r);
      },
    };

    // WHEN
    const result = await applyRetention(registry, repository, plan);

    // THEN
    const parsed = parseManifest(stored, target.digest);
    const children = parsed.kind === 'index' ? parsed.index.manifests.map((m) => m.digest) : [];
    expect(result.skipped.map((s) => s.entry.digest).sort()).toEqual([target.digest, ...children].sort());
    expect(result.skipped.find((s) => s.entry.digest === target.digest)!.reason).toMatch(/^kept now: 0\.9\.0/);
    expect(result.deleted).toHaveLength(plan.delete.length - 3);
    expect((await local.registry.getManifest(repository, '0.9.0'))?.digest).toBe(target.digest);
    for (const child of children) expect(await local.registry.getManifest(repository, child)).toBeDefined();
  });
});
