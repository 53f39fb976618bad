import { planRetention } from '../../src/image/retention';
import { classifyReleaseTags } from '../../src/image/release-tags';
import { MEDIA_TYPES } from '../../src/oci/registry';
import { MemoryRegistry } from '../support/memory-registry';

// Tags are classified by the vocabulary Release writes, not by their shape alone.

describe('classifyReleaseTags', () => {
  test('GIVEN a build id made only of digits WHEN classified THEN it is a build tag, not a major version', () => {
    const classes = classifyReleaseTags(['4095867312098765', '4095867312098765-amd64', '1.2.3', '1.2', '1', 'latest', '20260101']);
    expect(Object.fromEntries(classes)).toEqual({
      '4095867312098765': 'build',
      '4095867312098765-amd64': 'build',
      '1.2.3': 'semver',
      '1.2': 'semver',
      '1': 'semver',
      latest: 'latest',
      '20260101': 'date',
    });
  });

  test('GIVEN X and X.Y beside no X.Y.Z of theirs WHEN classified THEN they are not semver lines (kept as tags retention does not manage)', () => {
    expect(Object.fromEntries(classifyReleaseTags(['7', '7.1', '2.0.0']))).toEqual({ '7': 'other', '7.1': 'other', '2.0.0': 'semver' });
  });

  test('GIVEN eight digits that are the major of an X.Y.Z WHEN classified THEN they are the major tag, and without it a date tag', () => {
    expect(classifyReleaseTags(['20260101', '20260101.0.0']).get('20260101')).toBe('semver');
    expect(classifyReleaseTags(['20260101', '1.0.0']).get('20260101')).toBe('date');
  });

  test('GIVEN a prerelease X.Y.Z-rc.1 WHEN classified THEN its X and X.Y count as its lines', () => {
    expect(Object.fromEntries(classifyReleaseTags(['3.0.0-rc.1', '3', '3.0']))).toEqual({ '3.0.0-rc.1': 'semver', '3': 'semver', '3.0': 'semver' });
  });
});

/** An image manifest whose config digest is made of `n`: a distinct manifest per `n`. */
const manifest = (n: number) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: 2 },
      layers: [],
    }),
  );

describe('retention of a build whose id is only digits', () => {
  test('GIVEN two unreleased builds, one id of digits and one with letters WHEN planned THEN both are deleted alike', async () => {
    // GIVEN
    const registry = new MemoryRegistry(true);
    const repository = 'devcontainers/images/digits';
    const digits = await registry.putManifest(repository, '4095867312098765', MEDIA_TYPES.ociManifest, manifest(1));
    const letters = await registry.putManifest(repository, '40958673120987ab', MEDIA_TYPES.ociManifest, manifest(2));
    await registry.putManifest(repository, 'latest', MEDIA_TYPES.ociManifest, manifest(3));

    // WHEN
    const plan = await planRetention(registry, repository, { kind: 'release', now: new Date('2026-12-01T00:00:00Z') });

    // THEN
    expect(plan.delete.map((e) => e.digest).sort()).toEqual([digits, letters].sort());
    expect(plan.delete.every((e) => e.reason === 'not released under a kept tag (only build tags)')).toBe(true);
  });
});

describe('tags retention does not manage', () => {
  // A team's own tag on an old build (a pin, a channel, a CVE waiver) is not one Release writes: retention keeps it and what it points at.
  test.each(['team-pinned', 'stable', 'v2', '7.1', 'cve-2026-0001-waived'])(
    'GIVEN an unreleased build that also carries the tag %s, and another that carries only build tags THEN the first is kept, naming the tag, and only the second is deleted',
    async (tag) => {
      // GIVEN
      const registry = new MemoryRegistry(true);
      const repository = 'devcontainers/images/pins';
      const pinned = await registry.putManifest(repository, '1111222233334444', MEDIA_TYPES.ociManifest, manifest(1));
      await registry.putManifest(repository, tag, MEDIA_TYPES.ociManifest, manifest(1));
      const unpinned = await registry.putManifest(repository, '5555666677778888', MEDIA_TYPES.ociManifest, manifest(2));
      await registry.putManifest(repository, 'latest', MEDIA_TYPES.ociManifest, manifest(3));

      // WHEN
      const plan = await planRetention(registry, repository, { kind: 'release', now: new Date('2026-12-01T00:00:00Z') });

      // THEN
      expect(plan.delete.map((e) => e.digest)).toEqual([unpinned]);
      expect(plan.keep.find((e) => e.digest === pinned)).toMatchObject({ reason: `${tag}: not a tag retention manages` });
    },
  );
});
