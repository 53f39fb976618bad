/**
 * The Prepare step of the image pipeline, as a plain function: from the source
 * zip and the registry, the build id, the version and whether this build is
 * already released. The Lambda and `dcf local` both call it.
 */
import { RegistryError, type Registry } from '../registry/registry';
import { isReleased } from '../registry/release';
import { imageBuildId, type BaseImageDigest } from './image-build-id';
import { BASE_IMAGE_TAG, NO_BASES, NO_VERSION, PREPARE_VARIABLES } from './image-jobs';
import { readImageSource, type ImageSource } from './image-source';

export interface PrepareImageInput {
  /** The uploaded configuration zip, exactly as stored. */
  readonly zip: Uint8Array;
  /** The image's repository, `<ns>/images/<id>`. */
  readonly repository: string;
  /**
   * Repositories of the factory images this one is built on.
   * @default - none
   */
  readonly baseRepositories?: readonly string[];
}

export interface PreparedImage {
  readonly buildId: string;
  readonly source: ImageSource;
  /** Digest of each base image's `latest`, sorted by repository. */
  readonly bases: readonly BaseImageDigest[];
  /** True when the build id is already released (Build, Manifest and Test are skipped). */
  readonly released: boolean;
}

/** Thrown when a base image this image depends on has not been released yet. */
export class BaseImageMissingError extends RegistryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BaseImageMissingError';
  }
}

/**
 * Reads the configuration (failing on a bad one before anything is built), the
 * digests of the base images' `latest` tags, computes the build id and asks the
 * registry whether it is released. Reads only; running it twice gives the same
 * answer until a release happens.
 */
export async function prepareImage(registry: Registry, input: PrepareImageInput): Promise<PreparedImage> {
  const source = readImageSource(input.zip);
  const bases: BaseImageDigest[] = [];
  for (const repository of [...new Set(input.baseRepositories ?? [])].sort()) {
    const manifest = await registry.getManifest(repository, BASE_IMAGE_TAG);
    if (!manifest) {
      throw new BaseImageMissingError(
        `base image ${registry.host}/${repository}:${BASE_IMAGE_TAG} does not exist: release the base image first (upload its configuration), ` +
          `or remove it from this image's dependsOn in the catalogue`,
      );
    }
    bases.push({ repository, digest: manifest.digest });
  }
  const buildId = imageBuildId(input.zip, bases);
  const released = await isReleased(registry, input.repository, buildId);
  return { buildId, source, bases, released };
}

/** The output variables of the Prepare action for a prepared image. */
export function prepareOutputVariables(prepared: PreparedImage): Record<string, string> {
  return {
    [PREPARE_VARIABLES.buildId]: prepared.buildId,
    [PREPARE_VARIABLES.version]: prepared.source.version ?? NO_VERSION,
    [PREPARE_VARIABLES.released]: String(prepared.released),
    [PREPARE_VARIABLES.baseDigests]: prepared.bases.length ? prepared.bases.map((b) => `${b.repository}@${b.digest}`).join(',') : NO_BASES,
  };
}
