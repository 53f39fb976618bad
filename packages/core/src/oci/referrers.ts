/**
 * Artifacts about an image — its software bill of materials, the configuration it was
 * built from — stored beside it as OCI 1.1 referrers: an artifact manifest whose
 * `subject` is the image. A registry with the
 * referrers API (ECR) lists them by the image's digest; for one without it (the CNCF
 * distribution registry used locally) the spec's fallback applies: an index under the
 * tag `sha256-<hex>` of the image lists its referrers, and every writer keeps it up to date.
 */
import { sha256Digest } from './digest';
import { DIGEST_SOURCE } from './names';
import { parseManifest, type Descriptor } from './manifest';
import { MEDIA_TYPES, Registry, RegistryError } from './registry';

/** The artifact type of a CycloneDX SBOM (JSON). */
export const SBOM_ARTIFACT_TYPE = 'application/vnd.cyclonedx+json';
/** The OCI empty descriptor, the config of an artifact manifest that has none. */
export const EMPTY_CONFIG: Descriptor = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest('{}'), size: 2 };
/** The most referrers the fallback index of one image may list. */
export const MAX_REFERRERS = 100;
/** The largest artifact read back (an SBOM of a large image is a few MB). */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/** What a registry needs for referrers: blob upload beside the reads of {@link Registry}. */
export type ReferrerRegistry = Registry & { pushBlob(repository: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> };

/** Thrown when an artifact cannot be attached or read. */
export class ReferrerError extends RegistryError {}

/** The fallback tag of the referrers of `digest`: `sha256-<hex>`. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

const REFERRERS_TAG = new RegExp(`^${DIGEST_SOURCE.replace(':', '-')}$`);

/** The image digest whose referrers a fallback tag {@link referrersTag} lists; undefined for any other tag. */
export function referrersSubject(tag: string): string | undefined {
  return REFERRERS_TAG.test(tag) ? tag.replace('-', ':') : undefined;
}

/** A referrer as listed: its manifest's descriptor, with the artifact type and annotations. */
export interface Referrer extends Descriptor {
  readonly artifactType?: string;
}

/**
 * The referrers of an image, newest last; `artifactType` filters. Through the registry's
 * referrers API where it has one (ECR), merged with the fallback tag's list (which this
 * project writes everywhere, and which registries without the API need).
 */
export async function listReferrers(registry: Registry, repository: string, subject: string, artifactType?: string): Promise<Referrer[]> {
  const listed = await fallbackReferrers(registry, repository, subject);
  const api = (await registry.referrers?.(repository, subject)) ?? [];
  const seen = new Set(listed.map((r) => r.digest));
  const all = [...listed, ...(api as Referrer[]).filter((r) => !seen.has(r.digest))];
  return all.filter((d) => artifactType === undefined || d.artifactType === artifactType);
}

/** The referrers the fallback tag `sha256-<hex>` of an image lists. */
async function fallbackReferrers(registry: Registry, repository: string, subject: string): Promise<Referrer[]> {
  const index = await registry.getManifest(repository, referrersTag(subject));
  if (!index) return [];
  const parsed = parseManifest(index, `${repository}:${referrersTag(subject)}`);
  if (parsed.kind !== 'index')
    throw new ReferrerError(
      `${registry.host}/${repository}:${referrersTag(subject)} is not an index: the referrers fallback tag of ${subject} holds something else`,
    );
  return parsed.index.manifests as Referrer[];
}

/** Writes the fallback index of `subject` with `add` in it (replacing an entry of the same digest). */
async function writeReferrersIndex(registry: Registry, repository: string, subject: string, add: readonly Referrer[]): Promise<void> {
  const digests = new Set(add.map((r) => r.digest));
  const kept = (await fallbackReferrers(registry, repository, subject)).filter((r) => !digests.has(r.digest));
  const manifests = [...kept, ...add];
  if (manifests.length > MAX_REFERRERS) {
    throw new ReferrerError(
      `${registry.host}/${repository}@${subject} would have ${manifests.length} referrers, over the limit of ${MAX_REFERRERS}: delete old artifacts of the image`,
    );
  }
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
  await registry.putManifest(repository, referrersTag(subject), MEDIA_TYPES.ociIndex, body);
}

/** What {@link attachArtifact} stores. */
export interface ArtifactContent {
  readonly artifactType: string;
  /** The media type of the one layer, e.g. `application/vnd.cyclonedx+json`. */
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Stores an artifact about `subject` (an image manifest of `repository`): its blob, the
 * empty config, the artifact manifest (by digest, `subject` set), then the fallback
 * index. Returns the artifact manifest's descriptor.
 */
export async function attachArtifact(registry: ReferrerRegistry, repository: string, subject: Descriptor, content: ArtifactContent): Promise<Referrer> {
  const layer = await registry.pushBlob(repository, content.bytes);
  await registry.pushBlob(repository, Buffer.from('{}'));
  const annotations = content.annotations ?? {};
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: content.artifactType,
    config: EMPTY_CONFIG,
    layers: [{ mediaType: content.mediaType, digest: layer.digest, size: layer.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(Object.keys(annotations).length > 0 && { annotations }),
  };
  const body = Buffer.from(JSON.stringify(manifest));
  const digest = await registry.putManifest(repository, undefined, MEDIA_TYPES.ociManifest, body);
  const referrer: Referrer = {
    mediaType: MEDIA_TYPES.ociManifest,
    digest,
    size: body.length,
    artifactType: content.artifactType,
    ...(manifest.annotations && { annotations }),
  };
  await writeReferrersIndex(registry, repository, subject.digest, [referrer]);
  return referrer;
}

/**
 * The bytes of a referrer's one layer (an SBOM's JSON, a configuration zip), read back and checked.
 * @param maxBytes the largest layer read; a larger one is refused before it is downloaded
 */
export async function readArtifact(
  registry: Registry,
  repository: string,
  referrer: Descriptor,
  maxBytes = MAX_ARTIFACT_BYTES,
): Promise<{ bytes: Buffer; mediaType: string }> {
  const stored = await registry.getManifest(repository, referrer.digest);
  if (!stored) throw new ReferrerError(`${registry.host}/${repository}@${referrer.digest} is listed as a referrer but does not exist`);
  const parsed = parseManifest(stored, `${repository}@${referrer.digest}`);
  if (parsed.kind !== 'image' || parsed.manifest.layers.length !== 1)
    throw new ReferrerError(`${registry.host}/${repository}@${referrer.digest} is not an artifact manifest with one layer`);
  const layer = parsed.manifest.layers[0];
  if (layer.size > maxBytes) throw new ReferrerError(`the artifact ${referrer.digest} is ${layer.size} bytes, over the limit of ${maxBytes}`);
  const bytes = await registry.getBlob(repository, layer.digest);
  if (sha256Digest(bytes) !== layer.digest) throw new ReferrerError(`the artifact blob ${layer.digest} of ${repository} does not match its digest`);
  return { bytes, mediaType: layer.mediaType };
}

/**
 * Brings the referrers of `subject` from `from` into `to` of the same registry (for
 * promotion): their blobs through `copyBlob`, their manifests by digest, then the
 * fallback index of `to`. Returns how many were copied; none when `from` has none.
 */
export async function copyReferrers(registry: Registry, from: string, to: string, subject: string): Promise<number> {
  const referrers = await listReferrers(registry, from, subject);
  if (referrers.length === 0) return 0;
  const copyBlob = registry.copyBlob?.bind(registry);
  if (!copyBlob) throw new ReferrerError(`the registry client of ${registry.host} cannot copy blobs between repositories, which copying referrers needs`);
  for (const referrer of referrers) {
    const stored = await registry.getManifest(from, referrer.digest);
    if (!stored) throw new ReferrerError(`${registry.host}/${from}@${referrer.digest} is listed as a referrer of ${subject} but does not exist`);
    const parsed = parseManifest(stored, `${from}@${referrer.digest}`);
    if (parsed.kind !== 'image') throw new ReferrerError(`${registry.host}/${from}@${referrer.digest} is not an artifact manifest`);
    for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) await copyBlob(from, to, blob.digest, blob.size);
    await registry.putManifest(to, undefined, stored.mediaType, stored.body);
  }
  await writeReferrersIndex(registry, to, subject, referrers);
  return referrers.length;
}
