import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ImageIndexError,
  MEDIA_TYPES,
  OciRegistry,
  VersionConflictError,
  assembleIndex,
  imageIndexBytes,
  isReleased,
  releaseImage,
  resolvePlatform,
} from '../../src';
import { tagSnapshot as snapshotOf, useLocalRegistry } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';

// A real CNCF distribution registry, real images pushed over HTTP, and skopeo as an
// independent client: the registry logic of the Manifest and Release stages end to end.

jest.setTimeout(60_000);
const exec = promisify(execFile);
const RULES = { latest: true, semver: true, date: true };
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

const local = useLocalRegistry();
let registry: OciRegistry;

beforeAll(() => {
  registry = local.registry;
});

/** Every tag of a repository with the digest it points at. */
const tagSnapshot = (repository: string) => snapshotOf(registry, repository);

/** Pushes `<build>-amd64` and `<build>-arm64` and returns their digests. */
async function pushBuild(repository: string, buildId: string) {
  const [amd64, arm64] = await Promise.all([
    pushTestImage(local.host, repository, `${buildId}-amd64`, 'amd64'),
    pushTestImage(local.host, repository, `${buildId}-arm64`, 'arm64'),
  ]);
  return {
    amd64: amd64.digest,
    arm64: arm64.digest,
    layers: { amd64: amd64.manifest.layers.map((l) => l.digest), arm64: arm64.manifest.layers.map((l) => l.digest) },
  };
}

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await exec('skopeo', [...args], { timeout: 30_000 });
  return stdout;
}

describe('assembleIndex and resolvePlatform on a real registry', () => {
  const repository = 'devcontainers/images/index';

  test('GIVEN per-arch images WHEN the index is assembled THEN each platform resolves to its own image, for our client and for skopeo', async () => {
    // GIVEN
    const images = await pushBuild(repository, 'b1');

    // WHEN
    const index = await assembleIndex(registry, repository, 'b1', PLATFORMS);

    // THEN
    expect(index.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(index.manifests).toEqual([
      { mediaType: MEDIA_TYPES.ociManifest, digest: images.amd64, size: expect.any(Number), platform: { architecture: 'amd64', os: 'linux' } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: images.arm64, size: expect.any(Number), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ]);
    const stored = await registry.getManifest(repository, 'b1');
    expect(stored).toEqual({ digest: index.digest, mediaType: MEDIA_TYPES.ociIndex, body: index.body });
    expect(JSON.parse(stored!.body.toString())).toMatchObject({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex });
    expect(await resolvePlatform(registry, repository, 'b1', 'linux/amd64')).toBe(images.amd64);
    expect(await resolvePlatform(registry, repository, 'b1', 'linux/arm64')).toBe(images.arm64);
    expect(await resolvePlatform(registry, repository, 'b1', 'linux/arm64/v8')).toBe(images.arm64);
    await expect(resolvePlatform(registry, repository, 'b1', 'linux/s390x')).rejects.toThrow(
      /has no image for linux\/s390x; it offers linux\/amd64, linux\/arm64\/v8/,
    );

    const ref = `docker://${local.host}/${repository}:b1`;
    const raw = JSON.parse(await skopeo('inspect', '--raw', '--tls-verify=false', ref));
    expect(raw.manifests.map((m: { digest: string }) => m.digest)).toEqual([images.amd64, images.arm64]);
    for (const arch of ['amd64', 'arm64'] as const) {
      const seen = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--override-os', 'linux', '--override-arch', arch, ref));
      expect({ architecture: seen.Architecture, layers: seen.Layers }).toEqual({ architecture: arch, layers: images.layers[arch] });
    }
  });

  test('GIVEN an assembled index WHEN it is assembled again, platforms in another order THEN the digest and bytes are the same', async () => {
    // GIVEN
    await pushBuild(repository, 'b2');
    const first = await assembleIndex(registry, repository, 'b2', PLATFORMS);

    // WHEN
    const second = await assembleIndex(registry, repository, 'b2', ['linux/arm64/v8', 'linux/amd64']);

    // THEN
    expect(second.digest).toBe(first.digest);
    expect(second.body.equals(first.body)).toBe(true);
    expect(imageIndexBytes(first.manifests).equals(first.body)).toBe(true);
  });

  test('GIVEN a per-arch tag that holds an index (attestations left on) WHEN the index is assembled THEN it fails saying so and puts no <build> tag', async () => {
    // GIVEN
    const amd64 = await pushTestImage(local.host, repository, 'b3-amd64', 'amd64');
    const withAttestations = imageIndexBytes([
      { mediaType: MEDIA_TYPES.ociManifest, digest: amd64.digest, size: amd64.size, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    await registry.putManifest(repository, 'b3-arm64', MEDIA_TYPES.ociIndex, withAttestations);

    // WHEN
    const assembling = assembleIndex(registry, repository, 'b3', PLATFORMS);

    // THEN
    await expect(assembling).rejects.toThrow(ImageIndexError);
    await expect(assembling).rejects.toThrow(/b3-arm64 is an image index .*not a single-platform image manifest.*--provenance=false/);
    expect(await registry.getManifest(repository, 'b3')).toBeUndefined();
  });

  test('GIVEN an arm64 tag that holds an amd64 image WHEN the index is assembled THEN it fails naming the tag and both platforms', async () => {
    // GIVEN
    await pushTestImage(local.host, repository, 'b4-amd64', 'amd64');
    await pushTestImage(local.host, repository, 'b4-arm64', 'arm64', { configArch: 'amd64' });

    // WHEN / THEN
    await expect(assembleIndex(registry, repository, 'b4', PLATFORMS)).rejects.toThrow(/b4-arm64 holds a linux\/amd64 image, but that tag is for linux\/arm64/);
    expect(await registry.getManifest(repository, 'b4')).toBeUndefined();
  });

  test('GIVEN only the amd64 image WHEN the index is assembled for both platforms THEN it fails naming the missing tag', async () => {
    // GIVEN
    await pushTestImage(local.host, repository, 'b5-amd64', 'amd64');

    // WHEN / THEN
    await expect(assembleIndex(registry, repository, 'b5', PLATFORMS)).rejects.toThrow(/b5-arm64 does not exist: the linux\/arm64 build of b5 must push it/);
  });
});

describe('releases on a real registry', () => {
  const repository = 'devcontainers/images/python';
  const day = (d: number) => new Date(Date.UTC(2025, 4, d, 23, 30));
  const builds: Record<string, string> = {};

  beforeAll(async () => {
    for (const build of ['r1', 'r2', 'r3', 'r4']) {
      await pushBuild(repository, build);
      builds[build] = (await assembleIndex(registry, repository, build, PLATFORMS)).digest;
    }
  });

  test('GIVEN a first build WHEN released as 1.2.3 THEN 1.2.3, 1.2, 1, latest and the date point at its index, and a second run changes nothing', async () => {
    // GIVEN
    expect(await isReleased(registry, repository, 'r1')).toBe(false);

    // WHEN
    const first = await releaseImage(registry, repository, { buildId: 'r1', version: '1.2.3', rules: RULES, now: day(1) });
    const again = await releaseImage(registry, repository, { buildId: 'r1', version: '1.2.3', rules: RULES, now: day(1) });

    // THEN
    expect(first).toEqual({
      digest: builds.r1,
      tags: ['1.2.3', '1.2', '1', 'latest', '20250501'],
      moved: ['1.2.3', '1.2', '1', 'latest', '20250501'],
      unchanged: [],
    });
    expect(again).toEqual({ ...first, moved: [], unchanged: first.tags });
    const tags = await tagSnapshot(repository);
    for (const tag of first.tags) expect(tags[tag]).toBe(builds.r1);
    expect(await isReleased(registry, repository, 'r1')).toBe(true);
    const arm = JSON.parse(
      await skopeo('inspect', '--tls-verify=false', '--override-os', 'linux', '--override-arch', 'arm64', `docker://${local.host}/${repository}:latest`),
    );
    expect(arm.Architecture).toBe('arm64');
  });

  test('GIVEN 1.2.3 released WHEN a new build is released as 1.2.4 THEN 1.2, 1 and latest move to it and 1.2.3 stays', async () => {
    // GIVEN
    expect(await isReleased(registry, repository, 'r2')).toBe(false);

    // WHEN
    const result = await releaseImage(registry, repository, { buildId: 'r2', version: '1.2.4', rules: RULES, now: day(2) });

    // THEN
    expect(result).toEqual({
      digest: builds.r2,
      tags: ['1.2.4', '1.2', '1', 'latest', '20250502'],
      moved: ['1.2.4', '1.2', '1', 'latest', '20250502'],
      unchanged: [],
    });
    const tags = await tagSnapshot(repository);
    expect(tags).toMatchObject({ '1.2.3': builds.r1, '1.2.4': builds.r2, '1.2': builds.r2, '1': builds.r2, latest: builds.r2, '20250501': builds.r1 });
    expect(await isReleased(registry, repository, 'r2')).toBe(true);
  });

  test('GIVEN 1.2.4 released WHEN a back-port 1.1.9 is released THEN it gets 1.1.9 and 1.1 only: no existing tag moves and the date tag stays with the newest release', async () => {
    // GIVEN
    const before = await tagSnapshot(repository);

    // WHEN
    const result = await releaseImage(registry, repository, { buildId: 'r3', version: '1.1.9', rules: RULES, now: day(3) });

    // THEN
    expect(result.tags).toEqual(['1.1.9', '1.1']);
    const after = await tagSnapshot(repository);
    expect(after).toEqual({ ...before, '1.1.9': builds.r3, '1.1': builds.r3 });
  });

  test('GIVEN 1.2.3 released WHEN another build is released as 1.2.3 THEN VersionConflictError says to bump the version and no tag changes', async () => {
    // GIVEN
    const before = await tagSnapshot(repository);

    // WHEN
    const releasing = releaseImage(registry, repository, { buildId: 'r4', version: '1.2.3', rules: RULES, now: day(4) });

    // THEN
    await expect(releasing).rejects.toThrow(VersionConflictError);
    await expect(releasing).rejects.toThrow(
      `1.2.3 is already released as ${builds.r1}; this build is ${builds.r4}. A released version never moves: bump the version in customizations['devcontainer-factory'].version`,
    );
    expect(await tagSnapshot(repository)).toEqual(before);
    expect(await isReleased(registry, repository, 'r4')).toBe(false);
  });
});

describe('OciRegistry on a real registry', () => {
  test('GIVEN a repository with five tags WHEN tags are listed two per page THEN every tag comes back through the Link pages', async () => {
    // GIVEN
    const repository = 'devcontainers/images/paged';
    const image = await pushTestImage(local.host, repository, 't1', 'amd64');
    for (const tag of ['t2', 't3', 't4', 't5']) await registry.putManifest(repository, tag, image.mediaType, image.body);

    // WHEN
    const tags = await new OciRegistry({ host: local.host, tagsPageSize: 2 }).listTags(repository);

    // THEN
    expect(tags.sort()).toEqual(['t1', 't2', 't3', 't4', 't5']);
  });

  test('GIVEN no such repository WHEN it is read THEN tags are empty, manifests undefined and a blob read fails clearly', async () => {
    // GIVEN
    const repository = 'devcontainers/images/nothing';

    // WHEN / THEN
    expect(await registry.listTags(repository)).toEqual([]);
    expect(await registry.getManifest(repository, 'latest')).toBeUndefined();
    expect(await isReleased(registry, repository, 'b1')).toBe(false);
    await expect(registry.getBlob(repository, `sha256:${'0'.repeat(64)}`)).rejects.toThrow(/is not in localhost:\d+\/devcontainers\/images\/nothing/);
  });

  test('GIVEN a pushed blob WHEN it is pushed again and read THEN it is uploaded once and comes back byte for byte', async () => {
    // GIVEN
    const repository = 'devcontainers/images/blobs';
    const bytes = Buffer.from('a blob of devcontainer-factory');
    const pushed = await registry.pushBlob(repository, bytes);

    // WHEN
    const again = await registry.pushBlob(repository, bytes);

    // THEN
    expect(again).toEqual(pushed);
    expect(await registry.hasBlob(repository, pushed.digest)).toBe(true);
    expect((await registry.getBlob(repository, pushed.digest)).equals(bytes)).toBe(true);
  });
});
