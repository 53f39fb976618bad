import { ImageIndexError, assembleIndex } from '../../src/image/image-index';
import { UnsupportedPlatformError, parsePlatform, platformMatches } from '../../src/oci/platform';
import { MEDIA_TYPES } from '../../src/oci/registry';
import { MemoryRegistry } from '../support/memory-registry';

const REPO = 'devcontainers/images/node';

/** Stores a config blob and a manifest pointing at it under `tag`. */
async function image(
  registry: MemoryRegistry,
  tag: string,
  config: object,
  manifestType: string = MEDIA_TYPES.ociManifest,
  configType = 'application/vnd.oci.image.config.v1+json',
) {
  const configBytes = Buffer.from(JSON.stringify(config));
  const digest = registry.putBlob(REPO, configBytes);
  const body = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: manifestType, config: { mediaType: configType, digest, size: configBytes.length }, layers: [] }),
  );
  return registry.putManifest(REPO, tag, manifestType, body);
}

describe('assembleIndex (rules checked before reading the registry)', () => {
  test('GIVEN no platforms WHEN assembled THEN it asks for at least one', async () => {
    await expect(assembleIndex(new MemoryRegistry(), REPO, 'b1', [])).rejects.toThrow(/name at least one, e.g. linux\/amd64/);
  });

  test('GIVEN linux/arm64 and linux/arm64/v8 WHEN assembled THEN it says both read the same tag', async () => {
    await expect(assembleIndex(new MemoryRegistry(), REPO, 'b1', ['linux/arm64', 'linux/arm64/v8'])).rejects.toThrow(
      /platforms 'linux\/arm64' and 'linux\/arm64\/v8' both read tag b1-arm64/,
    );
  });

  test('GIVEN a platform the factory does not build WHEN assembled THEN UnsupportedPlatformError lists the supported ones', async () => {
    await expect(assembleIndex(new MemoryRegistry(), REPO, 'b1', ['linux/arm/v7'])).rejects.toThrow(UnsupportedPlatformError);
    await expect(assembleIndex(new MemoryRegistry(), REPO, 'b1', ['linux/arm/v7'])).rejects.toThrow(/use one of linux\/amd64, linux\/arm64, linux\/arm64\/v8/);
  });
});

describe('assembleIndex (per-arch manifests)', () => {
  test('GIVEN Docker v2 per-arch manifests WHEN assembled THEN the OCI index keeps their media type', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    const amd64 = await image(
      registry,
      'b1-amd64',
      { os: 'linux', architecture: 'amd64' },
      MEDIA_TYPES.dockerManifest,
      'application/vnd.docker.container.image.v1+json',
    );

    // WHEN
    const index = await assembleIndex(registry, REPO, 'b1', ['linux/amd64']);

    // THEN
    expect(index.manifests).toEqual([
      { mediaType: MEDIA_TYPES.dockerManifest, digest: amd64, size: expect.any(Number), platform: { architecture: 'amd64', os: 'linux' } },
    ]);
    expect(registry.snapshot(REPO).b1).toBe(index.digest);
  });

  test('GIVEN a per-arch tag that is an artifact, not an image WHEN assembled THEN it names the config media type', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    await image(registry, 'b1-amd64', {}, MEDIA_TYPES.ociManifest, 'application/vnd.in-toto+json');

    // WHEN / THEN
    await expect(assembleIndex(registry, REPO, 'b1', ['linux/amd64'])).rejects.toThrow(ImageIndexError);
    await expect(assembleIndex(registry, REPO, 'b1', ['linux/amd64'])).rejects.toThrow(
      /b1-amd64 is not a container image: its config is 'application\/vnd.in-toto\+json'/,
    );
  });

  test('GIVEN an arm/v7 image under the arm64/v8 tag WHEN assembled THEN the mismatch is named', async () => {
    // GIVEN
    const registry = new MemoryRegistry();
    await image(registry, 'b1-arm64', { os: 'linux', architecture: 'arm', variant: 'v7' });

    // WHEN / THEN
    await expect(assembleIndex(registry, REPO, 'b1', ['linux/arm64/v8'])).rejects.toThrow(
      /b1-arm64 holds a linux\/arm\/v7 image, but that tag is for linux\/arm64\/v8/,
    );
  });
});

describe('platforms', () => {
  test('GIVEN linux/arm64/v8 WHEN parsed THEN the arch tag suffix is arm64', () => {
    expect(parsePlatform('linux/arm64/v8')).toEqual({ name: 'linux/arm64/v8', os: 'linux', architecture: 'arm64', variant: 'v8', arch: 'arm64' });
  });

  test.each([
    [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }, true],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' }, true],
    [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64', variant: 'v2' }, true],
    [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }, false],
    [{ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }, false],
    [{ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }, false],
  ])('GIVEN a client on %j WHEN offered %j THEN it matches: %s', (wanted, actual, expected) => {
    expect(platformMatches(wanted, actual)).toBe(expected);
  });
});
