import { MEDIA_TYPES, assembleIndex, promoteBuild, PromotionError, sha256Digest, type Descriptor, type StoredManifest } from '../../src';
import { BlobMismatchError, OciRegistry } from '../../src/oci/oci-registry';
import { MemoryRegistry } from '../support/memory-registry';
import { startTamperingProxy, type TamperingProxy } from '../support/tampering-proxy';
import { pushTestImage } from '@devcontainer-factory/testing';
import { useLocalRegistry } from '@devcontainer-factory/testing';

// What promotion trusts, and where it checks. The copied path (a registry that does not
// mount) goes through the client, which checks every byte against the descriptor; the
// mounted path is the registry's. Manifests are checked against their digest and size.

jest.setTimeout(60_000);
const local = useLocalRegistry();
let proxy: TamperingProxy;
let round = 0;
beforeEach(async () => {
  proxy = await startTamperingProxy(local.host);
  proxy.refuseMounts();
});
afterEach(() => proxy.close());

/** A two-platform build in staging, as Build and Manifest leave it. */
async function stagedBuild() {
  round++;
  const staging = `devcontainers/builds/verify${round}`;
  const release = `devcontainers/images/verify${round}`;
  const buildId = round.toString(16).padStart(16, 'c');
  const amd64 = await pushTestImage(local.host, staging, `${buildId}-amd64`, 'amd64');
  const arm64 = await pushTestImage(local.host, staging, `${buildId}-arm64`, 'arm64');
  const index = await assembleIndex(local.registry, staging, buildId, ['linux/amd64', 'linux/arm64']);
  return { staging, release, buildId, amd64, arm64, index };
}

describe('the copied path checks every byte', () => {
  test('GIVEN a registry that copies (no mount) THEN promotion copies in chunks, checks them, and the release holds the same index', async () => {
    const { staging, release, buildId, index } = await stagedBuild();
    const registry = new OciRegistry({ host: proxy.host, copyChunkBytes: 100 });

    const result = await promoteBuild(registry, staging, release, buildId);

    expect(result.blobs).toEqual({ present: 0, mounted: 0, copied: 4 });
    expect((await local.registry.getManifest(release, buildId))?.digest).toBe(index.digest);
  });

  test('GIVEN a staging layer whose bytes do not match its digest THEN promotion refuses it, names repository, digest, expected and actual, and tags nothing', async () => {
    const { staging, release, buildId, arm64 } = await stagedBuild();
    const layer = arm64.manifest.layers[0];
    proxy.corruptBlob(layer.digest);
    const registry = new OciRegistry({ host: proxy.host, copyChunkBytes: 100 });

    const error = await promoteBuild(registry, staging, release, buildId).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PromotionError);
    const cause = (error as PromotionError).cause;
    expect(cause).toBeInstanceOf(BlobMismatchError);
    expect(cause).toMatchObject({
      repository: staging,
      digest: layer.digest,
      expectedSize: layer.size,
      actualSize: layer.size,
      actualDigest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
    });
    const actual = (cause as BlobMismatchError).actualDigest!;
    expect(actual).not.toBe(layer.digest);
    expect((error as Error).message).toBe(
      `cannot bring ${layer.digest} of ${staging}@${arm64.digest} into ${release}: ` +
        `${proxy.host}/${staging}@${layer.digest} is not what its descriptor says: expected ${layer.size} bytes hashing to ${layer.digest}, but its ${layer.size} bytes hash to ${actual}; ` +
        `refused before the copy was completed (the source is damaged: push or build it again); no tag of ${release} was moved`,
    );
    // The damaged blob never completed its upload, and no manifest (the amd64 one included) was put: no tag at all.
    expect(proxy.completedUploads).not.toContain(layer.digest);
    expect(await local.registry.listTags(release)).toEqual([]);
    expect(await local.registry.hasBlob(release, layer.digest)).toBe(false);
  });

  test.each([
    ['larger', 10],
    ['smaller', -10],
  ])('GIVEN a descriptor whose size is %s than the blob THEN copyBlob refuses it with both sizes, before reading on', async (_name, delta) => {
    const { staging, release, amd64 } = await stagedBuild();
    const layer = amd64.manifest.layers[0];
    const registry = new OciRegistry({ host: proxy.host });

    const error = await registry.copyBlob(staging, release, layer.digest, layer.size + delta).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BlobMismatchError);
    expect(error).toMatchObject({ repository: staging, digest: layer.digest, expectedSize: layer.size + delta, actualSize: layer.size });
    expect((error as Error).message).toContain(
      `expected ${layer.size + delta} bytes hashing to ${layer.digest}, but the registry has ${layer.size} bytes of it`,
    );
    expect(proxy.completedUploads).toEqual([]);
  });

  test('GIVEN a descriptor of 0 bytes with the digest of other bytes THEN it is refused without a request', async () => {
    const registry = new OciRegistry({ host: 'localhost:1', retry: { retries: 0 } });
    const digest = sha256Digest('not empty');
    const error = await registry.copyBlob('a', 'b', digest, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobMismatchError);
    expect((error as Error).message).toContain(`expected 0 bytes hashing to ${digest}, but a blob of 0 bytes is ${sha256Digest('')}`);
  });

  test('GIVEN a registry that mounts THEN the blobs are mounted: the registry computed their digests when Build uploaded them', async () => {
    const { staging, release, buildId } = await stagedBuild();
    const result = await promoteBuild(local.registry, staging, release, buildId);
    expect(result.blobs).toEqual({ present: 0, mounted: 4, copied: 0 });
  });
});

/** A registry whose staging copy of one manifest is not what the index says, and which copies blobs as `present`. */
class LyingRegistry extends MemoryRegistry {
  constructor(private readonly lie: (reference: string, stored: StoredManifest | undefined) => StoredManifest | undefined) {
    super();
  }
  override async getManifest(repository: string, reference: string): Promise<StoredManifest | undefined> {
    return this.lie(reference, await super.getManifest(repository, reference));
  }
  async copyBlob(): Promise<'present'> {
    return 'present';
  }
}

describe('manifests are checked against their digest and size when read', () => {
  const staging = 'ns/builds/x';
  const release = 'ns/images/x';
  const image = (n: number) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(`c${n}`), size: 2 },
        layers: [],
      }),
    );

  async function build(registry: MemoryRegistry, sizeOf: (body: Buffer) => number = (b) => b.length) {
    const children: Descriptor[] = [];
    for (const [n, architecture] of [
      [1, 'amd64'],
      [2, 'arm64'],
    ] as const) {
      const body = image(n);
      const digest = await registry.putManifest(staging, `b-${architecture}`, MEDIA_TYPES.ociManifest, body);
      children.push({ mediaType: MEDIA_TYPES.ociManifest, digest, size: sizeOf(body), platform: { os: 'linux', architecture } });
    }
    await registry.putManifest(
      staging,
      'b',
      MEDIA_TYPES.ociIndex,
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: children })),
    );
    registry.puts.length = 0;
    return children;
  }

  test('GIVEN an image manifest whose bytes do not hash to the digest the index gives THEN nothing is written', async () => {
    const tampered = image(3);
    let target = '';
    const registry = new LyingRegistry((reference, stored) => (reference === target && stored ? { ...stored, body: tampered } : stored));
    const [, arm64] = await build(registry);
    target = arm64.digest;

    await expect(promoteBuild(registry, staging, release, 'b')).rejects.toThrow(
      `memory.invalid/${staging}@${arm64.digest}, an image of the index b: its manifest's bytes hash to ${sha256Digest(tampered)}, not to ${arm64.digest}; refused, nothing was promoted (build it again)`,
    );
    expect(registry.puts).toEqual([]);
  });

  test('GIVEN an index that gives an image another size than its bytes THEN nothing is written', async () => {
    const registry = new LyingRegistry((_reference, stored) => stored);
    const [amd64] = await build(registry, (b) => b.length + 1);

    await expect(promoteBuild(registry, staging, release, 'b')).rejects.toThrow(
      `its manifest is ${image(1).length} bytes, but the index gives its size as ${amd64.size}; refused, nothing was promoted`,
    );
    expect(registry.puts).toEqual([]);
  });

  test('GIVEN an index whose bytes do not hash to the digest the registry gives THEN nothing is written', async () => {
    const registry = new LyingRegistry((reference, stored) => (reference === 'b' && stored ? { ...stored, digest: sha256Digest('other') } : stored));
    await build(registry);

    await expect(promoteBuild(registry, staging, release, 'b')).rejects.toThrow(
      /the index's bytes hash to sha256:[a-f0-9]{64}, but the registry gives its digest as sha256:[a-f0-9]{64}; refused, nothing was promoted/,
    );
    expect(registry.puts).toEqual([]);
  });
});
