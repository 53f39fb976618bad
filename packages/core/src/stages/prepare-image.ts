/**
 * The Prepare step of the image pipeline, as a plain function: from the source
 * zip and the registry, the build id, the version and whether this build is
 * already released. The Lambda and `dcf local` both call it.
 */
import { createHash } from 'node:crypto';
import type { FactoryVariableValues } from '../config/factory-variables';
import { isDockerHubReference, parseImageReference } from '../oci/image-reference';
import { OciRegistry } from '../oci/oci-registry';
import { RegistryError, type Registry } from '../oci/registry';
import { isReleased } from '../image/release';
import { InvalidConfigurationError } from '../config-files';
import { configurationInputs, inputChanges, resolveBuildInputs, type InputRecord, type ResolvedInput } from '../image/build-inputs';
import { InputRecordError, indexInputRecord } from '../image/input-record';
import { checkOciFeatureOptions } from '../image/feature-option-check';
import { imageBuildId, type BaseImageDigest } from '../image/image-build-id';
import { BASE_IMAGE_TAG, NO_VERSION, PREPARE_VARIABLES } from '../wire/image-jobs';
import { readImageSource, type ImageSource } from '../image/image-source';

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
  /** The factory's namespace: the value of `${localEnv:DCF_NAMESPACE}` (the registry's is `registry.host`). */
  readonly namespace: string;
  /**
   * The client of another registry host, for base images and features from outside the
   * factory's registry.
   * @default - an anonymous {@link OciRegistry} of that host
   */
  readonly registryFor?: (host: string) => Registry;
  /**
   * The repository prefix of a Docker Hub pull-through cache in the factory's registry,
   * through which Build pulls the `docker.io` bases (BuildKit's registry mirror).
   * @default - none: each base image from Docker Hub is named in a warning, since Build
   * would pull it anonymously
   */
  readonly dockerHubCachePrefix?: string;
}

export interface PreparedImage {
  readonly buildId: string;
  readonly source: ImageSource;
  /** Digest of each base image's `latest`, sorted by repository. */
  readonly bases: readonly BaseImageDigest[];
  /** True when the build id is already released (Build, Manifest and Test are skipped). */
  readonly released: boolean;
  /** Every base image and feature the configuration names, with the digest each named now. */
  readonly inputs: readonly ResolvedInput[];
  /** The record Manifest puts on the index ({@link INPUTS_ANNOTATION}), to compare the next build with. */
  readonly record: InputRecord;
  /**
   * Why this is a new build, compared with the one `latest` points at: one line per
   * change ("base … moved to sha256:…"); empty when released, or when there is nothing
   * to compare with (`firstBuild`).
   */
  readonly changes: readonly string[];
  /** True when the release repository has no `latest` with a recorded build to compare with. */
  readonly firstBuild: boolean;
  /**
   * What the build will likely trip over, one line each, for people (the summary names
   * them): base images that Build would pull anonymously from Docker Hub, and options given
   * to a feature that its definition does not declare or allow (which the devcontainer CLI
   * passes on all the same). Empty when released.
   */
  readonly warnings: readonly string[];
}

/** Thrown when a base image this image depends on has not been released yet. */
export class BaseImageMissingError extends RegistryError {}

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
  const named = configurationInputs(source, { registry: registry.host, namespace: input.namespace } satisfies FactoryVariableValues);
  const others = new Map<string, Registry>();
  const registryFor = (host: string): Registry => {
    if (host === registry.host) return registry;
    let client = others.get(host);
    if (!client) others.set(host, (client = input.registryFor?.(host) ?? new OciRegistry({ host })));
    return client;
  };
  const inputs = await resolveBuildInputs(named, registryFor);
  const buildId = imageBuildId(input.zip, bases, inputs);
  const released = await isReleased(registry, input.repository, buildId);
  const record: InputRecord = { configuration: `sha256:${createHash('sha256').update(input.zip).digest('hex')}`, inputs };
  const warnings: string[] = [];
  const previous = released ? undefined : await releasedRecord(registry, input.repository, warnings);
  const changes = previous ? inputChanges(previous, record) : [];
  const dockerHub =
    released || input.dockerHubCachePrefix ? [] : inputs.filter((i) => i.kind === 'base' && isDockerHubReference(i.reference)).map((i) => i.reference);
  if (dockerHub.length) warnings.push(dockerHubBaseWarning(dockerHub));
  if (!released) {
    // Only a build to come installs the features: a released one is not checked again.
    const options = await checkOciFeatureOptions(source, named, inputs, registryFor);
    if (options.problems.length) throw new InvalidConfigurationError(options.problems);
    warnings.push(...options.warnings);
  }
  return { buildId, source, bases, released, inputs, record, changes, firstBuild: !released && !previous, warnings };
}

/**
 * The warning for base images on Docker Hub without a Docker Hub pull-through cache:
 * Build would pull them anonymously, and Docker Hub limits anonymous pulls per address
 * (CodeBuild's are shared), so a build fails with `429 Too Many Requests` at random.
 */
export function dockerHubBaseWarning(references: readonly string[]): string {
  const official = references.map((r) => parseImageReference(r)).find((r) => r?.repository.startsWith('library/'));
  const ecrPublic = official ? `, e.g. public.ecr.aws/docker/${official.repository}:${official.tag ?? 'latest'}` : '';
  return (
    `${references.length > 1 ? 'base images' : 'base image'} ${references.join(', ')} ${references.length > 1 ? 'are' : 'is'} on Docker Hub, which Build pulls anonymously ` +
    `(Docker Hub limits anonymous pulls per address and CodeBuild's addresses are shared, so builds fail at random with 429 Too Many Requests): ` +
    `give the pipeline a Docker Hub pull-through cache (dockerHubCachePrefix), or build on the image's copy in another registry${ecrPublic}`
  );
}

/**
 * The input record on the index `latest` points at; undefined when there is none (or it
 * records nothing). It only says what moved, so a record that cannot be read is a warning
 * in `warnings`, not a refusal.
 */
async function releasedRecord(registry: Registry, repository: string, warnings: string[]): Promise<InputRecord | undefined> {
  const latest = await registry.getManifest(repository, 'latest');
  if (!latest) return undefined;
  try {
    return indexInputRecord(latest.body, `${registry.host}/${repository}:latest`);
  } catch (cause) {
    if (!(cause instanceof InputRecordError)) throw cause;
    warnings.push(`${(cause as Error).message}; what moved since that release is not reported`);
    return undefined;
  }
}

/** One line for people: why Prepare builds (or does not), then its warnings. */
export function prepareSummary(prepared: PreparedImage): string {
  if (prepared.released) return `build ${prepared.buildId} is released: nothing moved`;
  const warnings = prepared.warnings.map((w) => `; warning: ${w}`).join('');
  if (prepared.firstBuild) return `build ${prepared.buildId}: no earlier release records its inputs${warnings}`;
  return `build ${prepared.buildId}: ${prepared.changes.length ? prepared.changes.join('; ') : 'the dependsOn bases moved'}${warnings}`;
}

/** The output variables of the Prepare action for a prepared image. */
export function prepareOutputVariables(prepared: PreparedImage): Record<string, string> {
  return {
    [PREPARE_VARIABLES.buildId]: prepared.buildId,
    [PREPARE_VARIABLES.version]: prepared.source.version ?? NO_VERSION,
    [PREPARE_VARIABLES.released]: String(prepared.released),
    [PREPARE_VARIABLES.reason]: truncate(prepareSummary(prepared), MAX_REASON_LENGTH),
  };
}

/** Longest `Reason` output variable: the summary is cut there, with an ellipsis. */
export const MAX_REASON_LENGTH = 900;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
