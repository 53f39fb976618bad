/**
 * What was shipped: the exact configuration zip a build was made from, kept beside its
 * image index as an OCI 1.1 referrer (the zip as the one layer, the index as `subject`).
 * Manifest stores it right after it puts the index, promotion carries it with the index
 * into the release repository, and `dcf fetch` reads it back. The source bucket's object
 * versions expire; the referrer lives as long as the release it belongs to.
 */
import { indexInputRecord } from './input-record';
import { MAX_SOURCE_ZIP_SIZE, formatSize } from '../archive/archive-content';
import { sha256Digest } from '../oci/digest';
import type { Descriptor } from '../oci/manifest';
import { attachArtifact, listReferrers, readArtifact, ReferrerError, type Referrer, type ReferrerRegistry } from '../oci/referrers';
import type { Registry } from '../oci/registry';

/** The artifact type (and layer media type) of a build's configuration zip. */
export const CONFIGURATION_ARTIFACT_TYPE = 'application/vnd.devcontainer-factory.configuration.v1+zip';
/** The annotation of a configuration referrer that names the build it was made for. */
export const CONFIGURATION_BUILD_ANNOTATION = 'dev.devcontainer-factory.build';

/** Thrown when a configuration zip cannot be stored or read back as the build recorded it. */
export class ImageConfigurationError extends ReferrerError {}

/**
 * Stores `zip` as the configuration referrer of `index` (an image index of `repository`).
 * The artifact manifest has no timestamp, so storing the same zip for the same build again
 * gives the same referrer (a retried Manifest adds nothing).
 * @throws ImageConfigurationError for a zip over {@link MAX_SOURCE_ZIP_SIZE}, before anything is written
 */
export async function storeImageConfiguration(
  registry: ReferrerRegistry,
  repository: string,
  index: Descriptor,
  zip: Uint8Array,
  buildId: string,
): Promise<Referrer> {
  if (zip.length > MAX_SOURCE_ZIP_SIZE) {
    throw new ImageConfigurationError(
      `the configuration of build ${buildId} is ${formatSize(zip.length)}, over the limit of ${formatSize(MAX_SOURCE_ZIP_SIZE)} for a configuration zip`,
    );
  }
  return attachArtifact(registry, repository, index, {
    artifactType: CONFIGURATION_ARTIFACT_TYPE,
    mediaType: CONFIGURATION_ARTIFACT_TYPE,
    bytes: zip,
    annotations: { [CONFIGURATION_BUILD_ANNOTATION]: buildId },
  });
}

/** A configuration read back: its referrer, the zip's bytes and their digest. */
export interface StoredConfiguration {
  readonly referrer: Referrer;
  readonly bytes: Buffer;
  /** `sha256:…` of `bytes`: the digest the index's input record names, when it records one. */
  readonly digest: string;
  /** True when the index records the configuration's digest (every build since inputs were recorded) and the zip matches it. */
  readonly recorded: boolean;
}

/**
 * The configuration zip an image index was built from, read back and checked: the
 * referrer whose zip is the one the index's input record names (its `configuration`,
 * Prepare's digest of the upload), else, for an index that records none, the newest
 * configuration referrer. Undefined when the index has no configuration referrer (it was
 * built before the factory kept configurations).
 * @param index the index as stored (its digest and bytes)
 * @throws ImageConfigurationError when a referrer's zip is over {@link MAX_SOURCE_ZIP_SIZE}, is not the bytes its digest names, or none is the configuration the index records
 */
export async function readImageConfiguration(
  registry: Registry,
  repository: string,
  index: { readonly digest: string; readonly body: Buffer },
): Promise<StoredConfiguration | undefined> {
  const referrers = await listReferrers(registry, repository, index.digest, CONFIGURATION_ARTIFACT_TYPE);
  if (referrers.length === 0) return undefined;
  const where = `${registry.host}/${repository}@${index.digest}`;
  const recorded = indexInputRecord(index.body, where)?.configuration;
  // Newest first: a record names one zip; without a record the newest referrer is the answer.
  for (const referrer of [...referrers].reverse()) {
    let read: { bytes: Buffer };
    try {
      read = await readArtifact(registry, repository, referrer, MAX_SOURCE_ZIP_SIZE);
    } catch (cause) {
      throw new ImageConfigurationError(`cannot read the configuration ${referrer.digest} of ${where}: ${(cause as Error).message}`, { cause });
    }
    const digest = sha256Digest(read.bytes);
    if (recorded === undefined) return { referrer, bytes: read.bytes, digest, recorded: false };
    if (digest === recorded) return { referrer, bytes: read.bytes, digest, recorded: true };
  }
  throw new ImageConfigurationError(
    `${where} records its configuration as ${recorded}, but none of its ${referrers.length} configuration referrer(s) holds that zip: the configuration kept with it is not the one it was built from`,
  );
}
