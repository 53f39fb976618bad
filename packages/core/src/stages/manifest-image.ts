/**
 * The Manifest step of the image pipeline, as a plain function: the OCI image index
 * `<build>` over the per-arch images Build pushed, annotated with the build's input
 * record, and beside it the configuration zip the build was made from (see
 * {@link storeImageConfiguration}). The Lambda and `dcf local` both call it.
 */
import { MAX_SOURCE_ZIP_SIZE, formatSize } from '../archive/archive-content';
import { sha256Digest } from '../oci/digest';
import { assembleIndex, type AssembledIndex } from '../image/image-index';
import { storeImageConfiguration } from '../image/image-configuration';
import type { Referrer, ReferrerRegistry } from '../oci/referrers';
import { RegistryError } from '../oci/registry';
import { INPUTS_ANNOTATION, type EncodedInputRecord } from '../image/input-record';
import { MANIFEST_VARIABLES } from '../wire/image-jobs';

export interface ManifestImageInput {
  /** The staging repository, `<ns>/builds/<id>`, where Build pushed `<build>-<arch>`. */
  readonly repository: string;
  readonly buildId: string;
  /** The platforms built, e.g. `['linux/amd64', 'linux/arm64']`. */
  readonly platforms: readonly string[];
  /** The build's input record, as Prepare encoded it: put on the index as it is, its text unchanged. */
  readonly inputs: EncodedInputRecord;
  /** The uploaded configuration zip, exactly as Prepare read it: its digest must be the record's `configuration`. */
  readonly configuration: Uint8Array;
}

/** What {@link manifestImage} put. */
export interface ManifestedImage {
  readonly index: AssembledIndex;
  /** The configuration referrer of the index. */
  readonly configuration: Referrer;
}

/** Thrown when the configuration given is not the one Prepare recorded, or too large to keep; nothing was put. */
export class ManifestConfigurationError extends RegistryError {}

/**
 * Puts the index `<build>` (see {@link assembleIndex}) with the input record's text as
 * its annotation (the text Prepare wrote, not a re-encoding), then the configuration zip as the index's referrer. Every check runs
 * before the first write: the zip must be the one the record names (the upload Prepare
 * hashed into the build id) and no larger than {@link MAX_SOURCE_ZIP_SIZE}. Running it
 * again puts the same bytes (the same index digest, the same referrer).
 * @throws ManifestConfigurationError when the zip is not the recorded one or too large
 * @throws ImageIndexError when the per-arch images cannot make an index
 */
export async function manifestImage(registry: ReferrerRegistry, input: ManifestImageInput): Promise<ManifestedImage> {
  const { repository, buildId } = input;
  const digest = sha256Digest(input.configuration);
  const { record, text } = input.inputs;
  if (digest !== record.configuration) {
    throw new ManifestConfigurationError(
      `the configuration given for build ${buildId} is ${digest}, but Prepare recorded ${record.configuration}: the source artifact is not the upload the build was prepared from; nothing was put`,
    );
  }
  if (input.configuration.length > MAX_SOURCE_ZIP_SIZE) {
    throw new ManifestConfigurationError(
      `the configuration of build ${buildId} is ${formatSize(input.configuration.length)}, over the limit of ${formatSize(MAX_SOURCE_ZIP_SIZE)}; nothing was put`,
    );
  }
  const index = await assembleIndex(registry, repository, buildId, input.platforms, { [INPUTS_ANNOTATION]: text });
  const configuration = await storeImageConfiguration(
    registry,
    repository,
    { mediaType: index.mediaType, digest: index.digest, size: index.body.length },
    input.configuration,
    buildId,
  );
  return { index, configuration };
}

/** One line for people: what Manifest put. */
export function manifestSummary(repository: string, buildId: string, result: ManifestedImage): string {
  const platforms = result.index.manifests.map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/'));
  return `${repository}:${buildId} is the image index ${result.index.digest} over ${platforms.join(', ')}; its configuration is kept beside it (referrer ${result.configuration.digest})`;
}

/** The output variables of the Manifest action. */
export function manifestOutputVariables(result: ManifestedImage): Record<string, string> {
  return { [MANIFEST_VARIABLES.indexDigest]: result.index.digest };
}
