import { MEDIA_TYPES } from '../../src/oci/registry';
import { ReleaseError, VersionConflictError, isReleased, planRelease, releaseImage } from '../../src/image/release';
import { INPUTS_ANNOTATION, encodeInputRecord } from '../../src/image/input-record';
import { MemoryRegistry } from '../support/memory-registry';

const REPO = 'devcontainers/images/python';
const ALL = { latest: true, semver: true, date: true };
const NOW = new Date('2025-05-01T12:00:00Z');

/** Puts an index-like manifest under `<buildId>` and returns its digest. */
async function build(registry: MemoryRegistry, buildId: string): Promise<string> {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [], annotations: { build: buildId } }));
  return registry.putManifest(REPO, buildId, MEDIA_TYPES.ociIndex, body);
}

describe('planRelease / releaseImage', () => {
  test('GIVEN a released 1.2.3 WHEN another build is released as 1.2.3 THEN VersionConflictError is thrown before any tag is put', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    const first = await build(registry, 'b1');
    const second = await build(registry, 'b2');
    await releaseImage(registry, REPO, { buildId: 'b1', version: '1.2.3', rules: ALL, now: NOW });
    const before = registry.snapshot(REPO);
    const putsBefore = registry.puts.length;

    // WHEN
    const releasing = releaseImage(registry, REPO, { buildId: 'b2', version: '1.2.3', rules: ALL, now: new Date('2025-05-02T00:00:00Z') });

    // THEN
    await expect(releasing).rejects.toThrow(VersionConflictError);
    await expect(releasing).rejects.toMatchObject({ version: '1.2.3', releasedDigest: first, digest: second });
    expect(registry.puts.length).toBe(putsBefore);
    expect(registry.snapshot(REPO)).toEqual(before);
  });

  test('GIVEN a conflict WHEN only planning THEN the same error is thrown, and a plan without conflict writes nothing', async () => {
    // GIVEN
    const registry = new MemoryRegistry(true);
    const first = await build(registry, 'b1');
    await build(registry, 'b2');
    await releaseImage(registry, REPO, { buildId: 'b1', version: '1.2.3', rules: ALL, now: NOW });
    const putsBefore = registry.puts.length;

    // WHEN
    const conflict = planRelease(registry, REPO, { buildId: 'b2', version: '1.2.3', rules: ALL, now: NOW });
    const plan = await planRelease(registry, REPO, { buildId: 'b2', version: '1.3.0', rules: ALL, now: NOW });

    // THEN
    await expect(conflict).rejects.toThrow(/^1\.2\.3 is already released as sha256:[a-f0-9]{64}; this build is sha256:[a-f0-9]{64}\. .*bump the version/);
    expect(plan.tags).toEqual(['1.3.0', '1.3', '1', 'latest', '20250501']);
    expect(plan.moved).toEqual(['1.3.0', '1.3', '1', 'latest', '20250501']);
    // Strict: a tag new to the repository has no previous digest, not an undefined one.
    expect(plan.previous).toStrictEqual({ '1': first, latest: first, '20250501': first });
    expect(registry.puts.length).toBe(putsBefore);
  });

  test('GIVEN no index under the build id WHEN released THEN ReleaseError says to assemble it first', async () => {
    // GIVEN
    const registry = new MemoryRegistry();

    // WHEN / THEN
    await expect(releaseImage(registry, REPO, { buildId: 'missing', version: '1.0.0', rules: ALL, now: NOW })).rejects.toThrow(
      /devcontainers\/images\/python:missing does not exist: assemble the image index of build missing/,
    );
    expect(registry.puts).toEqual([]);
  });

  test('GIVEN a version that is not semver WHEN released THEN ReleaseError names the setting to fix and nothing is put', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    await build(registry, 'b1');
    const putsBefore = registry.puts.length;

    // WHEN
    const releasing = releaseImage(registry, REPO, { buildId: 'b1', version: 'v1.2', rules: ALL, now: NOW });

    // THEN
    await expect(releasing).rejects.toThrow(ReleaseError);
    await expect(releasing).rejects.toThrow(/version 'v1.2' in customizations\['devcontainer-factory'\]\.version is not a semantic version/);
    expect(registry.puts.length).toBe(putsBefore);
  });

  test('GIVEN no version WHEN released with every rule THEN latest and the date move, and no semver tag', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    const digest = await build(registry, 'b1');

    // WHEN
    const result = await releaseImage(registry, REPO, { buildId: 'b1', rules: ALL, now: NOW });

    // THEN
    expect(result).toEqual({ digest, tags: ['latest', '20250501'], moved: ['latest', '20250501'], unchanged: [] });
  });

  test.each([
    ['a registry that lists tags', false],
    ['a registry that lists tags with their digests (ECR)', true],
  ])(
    'GIVEN %s and 2.0.0 released WHEN 1.9.0 is released THEN it takes 1.9.0, 1.9 and 1 (the newest of its major): latest and the date stay on 2.0.0',
    async (_what, listsDigests) => {
      const registry = new MemoryRegistry(listsDigests);
      const newest = await build(registry, 'b1');
      await build(registry, 'b2');
      await releaseImage(registry, REPO, { buildId: 'b1', version: '2.0.0', rules: ALL, now: NOW });
      const result = await releaseImage(registry, REPO, { buildId: 'b2', version: '1.9.0', rules: ALL, now: NOW });
      expect(result.tags).toEqual(['1.9.0', '1.9', '1']);
      expect(registry.snapshot(REPO).latest).toBe(newest);
      expect(registry.snapshot(REPO)['20250501']).toBe(newest);
    },
  );

  test('GIVEN a newer release WHEN an older version is released with semver off THEN latest does not move back', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    await build(registry, 'b1');
    await build(registry, 'b2');
    await releaseImage(registry, REPO, { buildId: 'b1', version: '2.0.0', rules: ALL, now: NOW });

    // WHEN
    const result = await releaseImage(registry, REPO, { buildId: 'b2', version: '1.9.0', rules: { latest: true, semver: false, date: false }, now: NOW });

    // THEN
    expect(result.tags).toEqual([]);
    expect(registry.snapshot(REPO).latest).toBe((await registry.getManifest(REPO, 'b1'))!.digest);
  });

  test('GIVEN a pre-release WHEN released THEN only its own tag is applied: latest and the date tag stay with the newest release', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    await build(registry, 'b1');

    // WHEN
    const result = await releaseImage(registry, REPO, { buildId: 'b1', version: '2.0.0-rc.1', rules: ALL, now: NOW });

    // THEN
    expect(result.tags).toEqual(['2.0.0-rc.1']);
  });

  test('GIVEN a release WHEN it runs again THEN it gives the same digest and tags and puts nothing', async () => {
    // GIVEN
    const registry = new MemoryRegistry(true);
    await build(registry, 'b1');
    const first = await releaseImage(registry, REPO, { buildId: 'b1', version: '1.0.0', rules: ALL, now: NOW });
    const putsBefore = registry.puts.length;

    // WHEN
    const again = await releaseImage(registry, REPO, { buildId: 'b1', version: '1.0.0', rules: ALL, now: NOW });

    // THEN
    expect(again).toEqual({ digest: first.digest, tags: first.tags, moved: [], unchanged: first.tags });
    expect(registry.puts.length).toBe(putsBefore);
  });
});

describe('the date tag of a release', () => {
  test('GIVEN an invalid release time WHEN the date rule applies THEN ReleaseError is thrown before anything is read', async () => {
    const registry = new MemoryRegistry();
    await expect(planRelease(registry, REPO, { buildId: 'b1', rules: ALL, now: new Date('not a date') })).rejects.toThrow(
      new ReleaseError('the release time is not a valid date'),
    );
  });
});

describe('isReleased', () => {
  test.each([
    ['listing tags with digests', true],
    ['reading each tag', false],
  ])('GIVEN a registry %s WHEN a build is only assembled, then released THEN it is released only after the release', async (_how, listsDigests) => {
    // GIVEN
    const registry = new MemoryRegistry(listsDigests);
    await build(registry, 'b1');
    await registry.putManifest(REPO, 'b1-amd64', MEDIA_TYPES.ociIndex, (await registry.getManifest(REPO, 'b1'))!.body);
    const assembled = await isReleased(registry, REPO, 'b1');

    // WHEN
    await releaseImage(registry, REPO, { buildId: 'b1', rules: { latest: false, semver: false, date: true }, now: NOW });

    // THEN
    expect(assembled).toBe(false);
    expect(await isReleased(registry, REPO, 'b1')).toBe(true);
    expect(await isReleased(registry, REPO, 'b2')).toBe(false);
  });
});

// The pipeline's case: builds carry an input record (Manifest puts it on the index). A refresh is
// a new build of the same configuration (a base or feature moved): X.Y.Z stays on the build first
// released as it, and the rest of the rules move. Another configuration under the same version is refused.
describe('a refresh of a released version', () => {
  const CONFIG = `sha256:${'c'.repeat(64)}`;
  const OTHER_CONFIG = `sha256:${'e'.repeat(64)}`;
  const base = (n: string) => ({ kind: 'base' as const, reference: 'localhost:5000/devcontainers/images/base:latest', digest: `sha256:${n.repeat(64)}` });

  /** An index under `<buildId>` that records `configuration` and a base at `baseDigest`, as Manifest puts it. */
  async function recordedBuild(registry: MemoryRegistry, buildId: string, configuration: string | undefined, baseDigest = '1'): Promise<string> {
    const annotations: Record<string, string> = { build: buildId };
    if (configuration) annotations[INPUTS_ANNOTATION] = encodeInputRecord({ configuration, inputs: [base(baseDigest)] }).text;
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [], annotations }));
    return registry.putManifest(REPO, buildId, MEDIA_TYPES.ociIndex, body);
  }

  test('GIVEN 1.2.3 released WHEN a build of the same configuration on a moved base is released as 1.2.3 THEN 1.2.3 stays on its first build and 1.2, 1, latest and the date move to the refresh', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    const first = await recordedBuild(registry, 'b1', CONFIG, '1');
    const refresh = await recordedBuild(registry, 'b2', CONFIG, '2');
    await releaseImage(registry, REPO, { buildId: 'b1', version: '1.2.3', rules: ALL, now: NOW });

    // WHEN
    const result = await releaseImage(registry, REPO, { buildId: 'b2', version: '1.2.3', rules: ALL, now: new Date('2025-05-08T12:00:00Z') });

    // THEN
    expect(result).toMatchObject({ digest: refresh, pinned: '1.2.3' });
    expect(result.tags).not.toContain('1.2.3');
    expect(result.moved).toEqual(['1.2', '1', 'latest', '20250508']);
    const tags = registry.snapshot(REPO);
    expect(tags['1.2.3']).toBe(first);
    for (const t of ['1.2', '1', 'latest', '20250508']) expect(tags[t]).toBe(refresh);
    expect(tags['20250501']).toBe(first);
  });

  test('GIVEN 1.2.3 released WHEN a build of another configuration is released as 1.2.3 THEN VersionConflictError, and no tag moves', async () => {
    const registry = new MemoryRegistry();
    await recordedBuild(registry, 'b1', CONFIG);
    await recordedBuild(registry, 'b2', OTHER_CONFIG);
    await releaseImage(registry, REPO, { buildId: 'b1', version: '1.2.3', rules: ALL, now: NOW });
    const before = registry.snapshot(REPO);

    await expect(releaseImage(registry, REPO, { buildId: 'b2', version: '1.2.3', rules: ALL, now: NOW })).rejects.toThrow(VersionConflictError);
    expect(registry.snapshot(REPO)).toEqual(before);
  });

  test.each([
    ['the released build records no inputs', undefined, CONFIG],
    ['the new build records no inputs', CONFIG, undefined],
  ])('GIVEN %s THEN the same version is refused: without both records a refresh cannot be told from another configuration', async (_what, released, next) => {
    const registry = new MemoryRegistry();
    await recordedBuild(registry, 'b1', released);
    await recordedBuild(registry, 'b2', next, '2');
    await releaseImage(registry, REPO, { buildId: 'b1', version: '1.2.3', rules: ALL, now: NOW });
    await expect(releaseImage(registry, REPO, { buildId: 'b2', version: '1.2.3', rules: ALL, now: NOW })).rejects.toThrow(VersionConflictError);
  });
});
