import { MEDIA_TYPES } from '../../src/oci/registry';
import { ReleaseError, ReleaseRaceError, releaseImage } from '../../src/image/release';
import { NO_RELEASE_LOCK } from '../../src/oci/release-lock';
import { MemoryRegistry } from '../support/memory-registry';

// After writing, a release reads every tag back: a tag at another digest means
// another writer (one that does not share the lock) won, and is a failure, never a success.

const REPO = 'devcontainers/images/python';
const RULES = { latest: true, semver: true, date: false };
const NOW = new Date('2025-05-01T12:00:00Z');

async function build(registry: MemoryRegistry, buildId: string): Promise<string> {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [], annotations: { build: buildId } }));
  return registry.putManifest(REPO, buildId, MEDIA_TYPES.ociIndex, body);
}

/** A registry where a foreign writer moves `tag` to `digest`'s manifest right after this release puts it. */
class RacedRegistry extends MemoryRegistry {
  constructor(
    private readonly tag: string,
    private readonly foreign: () => Promise<Buffer>,
  ) {
    super();
  }
  override async putManifest(repository: string, tag: string | undefined, mediaType: string, body: Buffer): Promise<string> {
    const digest = await super.putManifest(repository, tag, mediaType, body);
    if (tag === this.tag) await super.putManifest(repository, tag, mediaType, await this.foreign());
    return digest;
  }
}

test('GIVEN a foreign writer that moves 1.0.0 right after this release put it WHEN released THEN ReleaseRaceError names the tag, the digest expected and the digest found', async () => {
  // GIVEN
  const registry: RacedRegistry = new RacedRegistry('1.0.0', async (): Promise<Buffer> => (await registry.getManifest(REPO, 'other'))!.body);
  const mine = await build(registry, 'mine');
  const other = await build(registry, 'other');

  // WHEN
  const releasing = releaseImage(registry, REPO, { buildId: 'mine', version: '1.0.0', rules: RULES, now: NOW, lock: NO_RELEASE_LOCK });

  // THEN
  await expect(releasing).rejects.toThrow(ReleaseRaceError);
  await expect(releasing).rejects.toThrow(ReleaseError);
  await expect(releasing).rejects.toMatchObject({ tag: '1.0.0', expectedDigest: mine, foundDigest: other, moved: ['1.0.0', '1.0', '1', 'latest'] });
  await expect(releasing).rejects.toThrow(
    `memory.invalid/${REPO}:1.0.0 should point at ${mine} after this release, but points at ${other}: another release of memory.invalid/${REPO} wrote it at the same time, and this release lost (it had moved 1.0.0, 1.0, 1, latest)`,
  );
});

test('GIVEN a registry that cannot read the tags back WHEN released THEN the release succeeds and lists them as unverified', async () => {
  // GIVEN
  const registry = new MemoryRegistry();
  const digest = await build(registry, 'b1');
  const read = registry.getManifest.bind(registry);
  registry.getManifest = async (repository, reference) => (reference === 'b1' ? read(repository, reference) : Promise.reject(new Error('read failed')));

  // WHEN
  const result = await releaseImage(registry, REPO, { buildId: 'b1', version: '1.0.0', rules: RULES, now: NOW });

  // THEN
  expect(result).toEqual({
    digest,
    tags: ['1.0.0', '1.0', '1', 'latest'],
    moved: ['1.0.0', '1.0', '1', 'latest'],
    unchanged: [],
    unverified: ['1.0.0', '1.0', '1', 'latest'],
  });
});
