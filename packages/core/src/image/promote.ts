import { archTag } from './release-tags';
import { sha256Digest } from '../oci/digest';
import { parseManifest, type Descriptor } from '../oci/manifest';
import { copyReferrers, listReferrers } from '../oci/referrers';
import { type BlobCopy, Registry, RegistryError, type StoredManifest } from '../oci/registry';

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
  /** Artifacts brought along as referrers: those of the index (the configuration it was built from) and of the per-platform images (their SBOMs). */
  readonly referrers: number;
}

/**
 * Thrown when a build cannot be promoted (missing in staging, not an index, a manifest or
 * blob that is not what its digest says, a blob the registry cannot copy).
 */
export class PromotionError extends RegistryError {}

function childWhere(repository: string, d: Descriptor): string {
  return `${repository}@${d.digest}`;
}

/** A per-platform image of the build, read and checked before anything is written. */
interface CheckedImage {
  readonly child: Descriptor;
  readonly stored: StoredManifest;
  readonly blobs: readonly Descriptor[];
}

/**
 * Promotes build `buildId` from the staging repository into the release repository of
 * the same registry: every blob of every per-platform image (mounted where the registry
 * allows it, else copied in chunks), each per-platform manifest under `<build>-<arch>`,
 * then the exact index bytes under `<build>`, then the referrers of the index (the
 * configuration zip it was built from). The index goes after its images, so the release
 * repository never holds an index whose images are missing; the release tags are put by
 * {@link releaseImage} afterwards. Running it again writes nothing but what is missing
 * (`alreadyPromoted`: only referrers of the index that a run which failed midway did not
 * bring over); a run that failed midway completes on the next.
 *
 * What it trusts, and where it checks: every manifest it reads (the index, each image)
 * must hash to the digest it is read by, and have the size its descriptor gives. A blob
 * that is present or mounted is trusted to the registry, which computed its digest when
 * Build uploaded it (only the Build role writes staging); a copied blob is checked byte
 * for byte by the client ({@link Registry.copyBlob}). Every manifest is checked and every
 * blob brought over before the first manifest is written, so a build that fails a check
 * leaves no tag in the release repository.
 * @throws PromotionError when staging has no `<build>` index, it is not an index, a
 * manifest is not what its digest or size says, or a blob cannot be brought over (its
 * `cause` is then the registry's error, e.g. a {@link BlobMismatchError})
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
  const actualIndexDigest = sha256Digest(index.body);
  if (actualIndexDigest !== index.digest) {
    throw new PromotionError(
      `${registry.host}/${staging}:${buildId}: the index's bytes hash to ${actualIndexDigest}, but the registry gives its digest as ${index.digest}; refused, nothing was promoted`,
    );
  }
  const parsed = parseManifest(index, `${staging}:${buildId}`);
  if (parsed.kind !== 'index') throw new PromotionError(`${registry.host}/${staging}:${buildId} is a single image manifest, not the image index of a build`);
  const promoted = await registry.getManifest(release, buildId);
  const blobs: Record<BlobCopy, number> = { present: 0, mounted: 0, copied: 0 };
  if (promoted?.digest === index.digest) {
    // The index went over before its referrers: bring over what a run that stopped between them left behind.
    const referrers = (await missingReferrers(registry, staging, release, index.digest))
      ? await copyIndexReferrers(registry, staging, release, buildId, index.digest)
      : 0;
    return { digest: index.digest, alreadyPromoted: true, manifests: [], blobs, referrers };
  }

  // Plan: every image read and checked.
  const images: CheckedImage[] = [];
  for (const child of parsed.index.manifests) {
    const stored: StoredManifest | undefined = await registry.getManifest(staging, child.digest);
    if (!stored) throw new PromotionError(`${registry.host}/${childWhere(staging, child)}, an image of the index ${buildId}, does not exist in staging`);
    checkManifestBytes(registry.host, staging, buildId, child, stored);
    const image = parseManifest(stored, childWhere(staging, child));
    if (image.kind !== 'image')
      throw new PromotionError(`${registry.host}/${childWhere(staging, child)} is an index inside the index ${buildId}: a build's index holds images only`);
    images.push({ child, stored, blobs: [image.manifest.config, ...image.manifest.layers] });
  }
  // Every blob, before any manifest refers to it in the release repository.
  for (const { child, blobs: needed } of images) {
    for (const blob of needed) {
      try {
        blobs[await copyBlob(staging, release, blob.digest, blob.size)]++;
      } catch (cause) {
        throw new PromotionError(
          `cannot bring ${blob.digest} of ${childWhere(staging, child)} into ${release}: ${(cause as Error).message}; no tag of ${release} was moved`,
          { cause },
        );
      }
    }
  }
  const manifests: string[] = [];
  let referrers = 0;
  for (const { child, stored } of images) {
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
  if (digest !== index.digest)
    throw new PromotionError(`${registry.host}/${release}:${buildId} was stored as ${digest}, not as the staging index ${index.digest}`);
  referrers += await copyIndexReferrers(registry, staging, release, buildId, index.digest);
  return { digest, alreadyPromoted: false, manifests, blobs, referrers };
}

/** Brings the referrers of the index (its configuration) from staging into the release repository. */
async function copyIndexReferrers(registry: Registry, staging: string, release: string, buildId: string, digest: string): Promise<number> {
  try {
    return await copyReferrers(registry, staging, release, digest);
  } catch (cause) {
    throw new PromotionError(
      `cannot bring the artifacts (configuration) of the index ${buildId} (${digest}) into ${release}: ${(cause as Error).message}; promote again to complete it`,
      { cause },
    );
  }
}

/** True when staging lists a referrer of `subject` that the release repository does not. */
async function missingReferrers(registry: Registry, staging: string, release: string, subject: string): Promise<boolean> {
  const staged = await listReferrers(registry, staging, subject);
  if (staged.length === 0) return false;
  const present = new Set((await listReferrers(registry, release, subject)).map((r) => r.digest));
  return staged.some((r) => !present.has(r.digest));
}

/** A per-platform manifest must be the bytes its descriptor in the index names: their digest and their size. */
function checkManifestBytes(host: string, staging: string, buildId: string, child: Descriptor, stored: StoredManifest): void {
  const actual = sha256Digest(stored.body);
  if (actual !== child.digest || stored.digest !== child.digest) {
    throw new PromotionError(
      `${host}/${childWhere(staging, child)}, an image of the index ${buildId}: its manifest's bytes hash to ${actual}, not to ${child.digest}; refused, nothing was promoted (build it again)`,
    );
  }
  if (stored.body.length !== child.size) {
    throw new PromotionError(
      `${host}/${childWhere(staging, child)}, an image of the index ${buildId}: its manifest is ${stored.body.length} bytes, but the index gives its size as ${child.size}; refused, nothing was promoted (build it again)`,
    );
  }
}
