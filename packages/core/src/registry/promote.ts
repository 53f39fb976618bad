import { archTag } from '../naming';
import { parseManifest, type Descriptor } from './manifest';
import { copyReferrers } from './referrers';
import { type BlobCopy, Registry, RegistryError, type StoredManifest } from './registry';

/** What {@link promoteBuild} did. */
export interface PromotionResult {
  /** Digest of the `<build>` index, the same in both repositories. */
  readonly digest: string;
  /** True when the release repository already held `<build>` at that digest: nothing was written. */
  readonly alreadyPromoted: boolean;
  /** The per-platform manifests put into the release repository, by digest. */
  readonly manifests: readonly string[];
  /** How each blob (configs and layers) got there: already present, mounted, or copied. */
  readonly blobs: Readonly<Record<BlobCopy, number>>;
  /** Artifacts about the per-platform images (their SBOMs) brought along as referrers. */
  readonly referrers: number;
}

/** Thrown when a build cannot be promoted (missing in staging, not an index, a blob the registry cannot copy); no tag of the release repository moved. */
export class PromotionError extends RegistryError {}

function childWhere(repository: string, d: Descriptor): string {
  return `${repository}@${d.digest}`;
}

/**
 * Promotes build `buildId` from the staging repository into the release repository of
 * the same registry: every blob of every per-platform image (mounted where the registry
 * allows it, else copied in chunks), each per-platform manifest under `<build>-<arch>`,
 * then the exact index bytes under `<build>`. The index goes last, so the release
 * repository never holds an index whose images are missing; the release tags are put by
 * {@link releaseImage} afterwards. Running it again writes nothing
 * (`alreadyPromoted`); a run that failed midway completes on the next.
 * @throws PromotionError when staging has no `<build>` index, or it is not an index
 */
export async function promoteBuild(registry: Registry, staging: string, release: string, buildId: string): Promise<PromotionResult> {
  const copyBlob = registry.copyBlob?.bind(registry);
  if (!copyBlob) throw new PromotionError(`the registry client of ${registry.host} cannot copy blobs between repositories, which promotion needs`);
  const index = await registry.getManifest(staging, buildId);
  if (!index) {
    throw new PromotionError(
      `${registry.host}/${staging}:${buildId} does not exist: Build and Manifest put the tested index there before Release promotes it (staging builds expire; run the pipeline again to rebuild it)`,
    );
  }
  const parsed = parseManifest(index, `${staging}:${buildId}`);
  if (parsed.kind !== 'index') throw new PromotionError(`${registry.host}/${staging}:${buildId} is a single image manifest, not the image index of a build`);
  const promoted = await registry.getManifest(release, buildId);
  const blobs: Record<BlobCopy, number> = { present: 0, mounted: 0, copied: 0 };
  if (promoted?.digest === index.digest) return { digest: index.digest, alreadyPromoted: true, manifests: [], blobs, referrers: 0 };

  const manifests: string[] = [];
  let referrers = 0;
  for (const child of parsed.index.manifests) {
    const stored: StoredManifest | undefined = await registry.getManifest(staging, child.digest);
    if (!stored) throw new PromotionError(`${registry.host}/${childWhere(staging, child)}, an image of the index ${buildId}, does not exist in staging`);
    const image = parseManifest(stored, childWhere(staging, child));
    if (image.kind !== 'image') throw new PromotionError(`${registry.host}/${childWhere(staging, child)} is an index inside the index ${buildId}: a build's index holds images only`);
    for (const blob of [image.manifest.config, ...image.manifest.layers]) {
      try {
        blobs[await copyBlob(staging, release, blob.digest, blob.size)]++;
      } catch (cause) {
        throw new PromotionError(`cannot bring ${blob.digest} of ${childWhere(staging, child)} into ${release}: ${(cause as Error).message}`, { cause });
      }
    }
    const arch = child.platform?.architecture;
    await registry.putManifest(release, arch ? archTag(buildId, arch) : undefined, stored.mediaType, stored.body);
    manifests.push(stored.digest);
    try {
      referrers += await copyReferrers(registry, staging, release, stored.digest);
    } catch (cause) {
      throw new PromotionError(`cannot bring the artifacts (SBOM) of ${childWhere(staging, child)} into ${release}: ${(cause as Error).message}`, { cause });
    }
  }
  const digest = await registry.putManifest(release, buildId, index.mediaType, index.body);
  if (digest !== index.digest) throw new PromotionError(`${registry.host}/${release}:${buildId} was stored as ${digest}, not as the staging index ${index.digest}`);
  return { digest, alreadyPromoted: false, manifests, blobs, referrers };
}
