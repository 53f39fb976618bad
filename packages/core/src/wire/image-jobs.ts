/**
 * The contract between the image pipeline construct and its Lambda actions: the
 * UserParameters each action receives (JSON the construct
 * writes) and the output variables each one sets. Both sides import these, so a
 * renamed variable breaks the build, not a deployed pipeline.
 */
import { JobParametersError, stringListParameter, stringParameter } from './job-event';
import { SCAN_GATE_LIMITS } from '../supply-chain/scan-gate';
import { BLOCK_AT_VALUES, vulnerabilityPolicyProblems, type VulnerabilityPolicy } from '../supply-chain/vulnerability-gate';

/**
 * Output variables of the Prepare action. The build's input record is not one: it grows
 * with the configuration's inputs past CodePipeline's 1,000 characters of a configuration
 * value, so Prepare writes it as its output artifact (`inputsArtifactBytes`), which Manifest
 * and Build take as an input artifact.
 */
export const PREPARE_VARIABLES = {
  /** 16 hex digits: sha256 of the zip and the base digests (see `imageBuildId`). */
  buildId: 'BuildId',
  /** The configuration's semantic version, or {@link NO_VERSION}. */
  version: 'Version',
  /** `'true'` when the build id is already released: Build, Manifest and Test are skipped. */
  released: 'Released',
  /** Why this build (what moved since the release `latest` points at), or that nothing moved. */
  reason: 'Reason',
} as const;

/** Output variables of the Manifest action. */
export const MANIFEST_VARIABLES = {
  /** Digest of the image index `<build>`. */
  indexDigest: 'IndexDigest',
} as const;

/** Output variables of the Release action. */
export const RELEASE_VARIABLES = {
  /** Digest the release tags point at. */
  digest: 'Digest',
  /** Every release tag of this build, comma-separated. */
  tags: 'Tags',
  /** Tags this run moved (the others already pointed here), comma-separated, or `none`. */
  moved: 'Moved',
} as const;

/** The value of `Version` when the configuration has none (output variables are never empty). */
export const NO_VERSION = 'none';
/** The tag of a base image whose push starts a dependent image's pipeline and whose digest enters the build id. */
export const BASE_IMAGE_TAG = 'latest';

/** The release tag rules an image can have. */
export const RELEASE_TAG_RULES = ['latest', 'semver', 'date'] as const;
export type ReleaseTagRule = (typeof RELEASE_TAG_RULES)[number];

/** UserParameters of the Prepare action. */
export interface PrepareParameters {
  /** The registry host, `<account>.dkr.ecr.<region>.amazonaws.com`. */
  readonly registryHost: string;
  /** The image's repository, `<ns>/images/<id>`. */
  readonly repository: string;
  /** Repositories of the factory images this one is built on (catalogue `dependsOn`). */
  readonly baseRepositories: readonly string[];
  /** The factory's namespace, the value of `${localEnv:DCF_NAMESPACE}` in configurations. */
  readonly namespace: string;
  /** The repository prefix of the Docker Hub pull-through cache Build pulls `docker.io` bases through; absent without one (Prepare then warns of them). */
  readonly dockerHubCachePrefix?: string;
}

/**
 * UserParameters of the Manifest action. The build's input record is not among them: it
 * comes as Prepare's output artifact (`inputsArtifact`), beside the source artifact.
 */
export interface ManifestParameters {
  readonly registryHost: string;
  /** The staging repository, `<ns>/builds/<id>`, where Build pushed `<build>-<arch>`. */
  readonly repository: string;
  /** `#{Prepare.BuildId}`. */
  readonly buildId: string;
  /** The platforms built, e.g. `['linux/amd64', 'linux/arm64']`. */
  readonly platforms: readonly string[];
  /** The name of the input artifact that is the uploaded configuration zip (the source action's output): kept beside the index. */
  readonly sourceArtifact: string;
  /** The name of the input artifact that is Prepare's input record (`inputsArtifactBytes`): put on the index as an annotation. */
  readonly inputsArtifact: string;
}

/** UserParameters of the Release action. */
export interface ReleaseParameters {
  readonly registryHost: string;
  /** The release repository, `<ns>/images/<id>`: the only one users pull from. */
  readonly repository: string;
  /** The staging repository Build, Manifest and Test worked in, `<ns>/builds/<id>`: the build is promoted from there. */
  readonly stagingRepository: string;
  /** `#{Prepare.BuildId}`. */
  readonly buildId: string;
  /** `#{Prepare.Version}`: a semantic version or {@link NO_VERSION}. */
  readonly version: string;
  /** Which tags to apply. */
  readonly rules: readonly ReleaseTagRule[];
}

function common(params: Record<string, unknown>) {
  return { registryHost: stringParameter(params, 'registryHost'), repository: stringParameter(params, 'repository') };
}

export function parsePrepareParameters(params: Record<string, unknown>): PrepareParameters {
  const dockerHubCachePrefix = params.dockerHubCachePrefix === undefined ? undefined : stringParameter(params, 'dockerHubCachePrefix');
  return {
    ...common(params),
    baseRepositories: stringListParameter(params, 'baseRepositories'),
    namespace: stringParameter(params, 'namespace'),
    ...(dockerHubCachePrefix !== undefined && { dockerHubCachePrefix }),
  };
}

export function parseManifestParameters(params: Record<string, unknown>): ManifestParameters {
  const platforms = stringListParameter(params, 'platforms');
  if (platforms.length === 0) throw new JobParametersError('UserParameters.platforms must name at least one platform');
  const sourceArtifact = stringParameter(params, 'sourceArtifact');
  const inputsArtifact = stringParameter(params, 'inputsArtifact');
  if (sourceArtifact === inputsArtifact)
    throw new JobParametersError(`UserParameters.sourceArtifact and inputsArtifact both name the artifact ${sourceArtifact}: redeploy the pipeline stack`);
  return { ...common(params), buildId: stringParameter(params, 'buildId'), platforms, sourceArtifact, inputsArtifact };
}

export function parseReleaseParameters(params: Record<string, unknown>): ReleaseParameters {
  const rules = stringListParameter(params, 'rules');
  const unknown = rules.filter((r) => !(RELEASE_TAG_RULES as readonly string[]).includes(r));
  if (unknown.length > 0) {
    throw new JobParametersError(`UserParameters.rules has unknown rules ${unknown.join(', ')}: use ${RELEASE_TAG_RULES.join(', ')}`);
  }
  return {
    ...common(params),
    stagingRepository: stringParameter(params, 'stagingRepository'),
    buildId: stringParameter(params, 'buildId'),
    version: stringParameter(params, 'version'),
    rules: rules as ReleaseTagRule[],
  };
}

/** The environment variable of the Release function that holds its {@link ReleaseGateSettings} (absent: no gate). */
export const RELEASE_GATE_ENVIRONMENT = 'DCF_VULNERABILITY_GATE';
/** The most bytes the settings may take: a Lambda function's environment holds 4 KB in all. */
export const MAX_RELEASE_GATE_SETTINGS_BYTES = 3072;

/** How Release gates a build on its scan findings. */
export interface ReleaseGateSettings {
  readonly policy: VulnerabilityPolicy;
  /** How long Release waits for a scan in progress. */
  readonly maxWaitSeconds: number;
}

/** The settings as the construct writes them into the Release function's environment; throws when they do not fit. */
export function formatReleaseGateSettings(settings: ReleaseGateSettings, imageId: string): string {
  const problems = vulnerabilityPolicyProblems(settings.policy);
  const limit = SCAN_GATE_LIMITS.maxWaitLimitSeconds;
  if (!Number.isSafeInteger(settings.maxWaitSeconds) || settings.maxWaitSeconds < 0 || settings.maxWaitSeconds > limit)
    problems.push(`the wait is ${settings.maxWaitSeconds} s: use 0 to ${limit} s`);
  if (problems.length) throw new JobParametersError(`the vulnerability policy of image '${imageId}': ${problems.join('; ')}`);
  const text = JSON.stringify({ b: settings.policy.blockAt, w: settings.maxWaitSeconds, a: settings.policy.allow.map((a) => [a.id, a.expires, a.reason]) });
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_RELEASE_GATE_SETTINGS_BYTES) {
    throw new JobParametersError(
      `the vulnerability policy of image '${imageId}' takes ${bytes} bytes, over the ${MAX_RELEASE_GATE_SETTINGS_BYTES} the Release function's environment can hold: allow fewer findings or give shorter reasons`,
    );
  }
  return text;
}

/** Reads {@link formatReleaseGateSettings}' text; `undefined` (no gate) when there is none. */
export function parseReleaseGateSettings(text: string | undefined): ReleaseGateSettings | undefined {
  if (text === undefined || text === '') return undefined;
  let raw: { b?: unknown; w?: unknown; a?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (cause) {
    throw new JobParametersError(`${RELEASE_GATE_ENVIRONMENT} is not JSON: redeploy the image pipeline`, { cause });
  }
  const blockAt = raw.b;
  if (typeof blockAt !== 'string' || !(BLOCK_AT_VALUES as readonly string[]).includes(blockAt))
    throw new JobParametersError(`${RELEASE_GATE_ENVIRONMENT} has no valid blockAt: redeploy the image pipeline`);
  const limit = SCAN_GATE_LIMITS.maxWaitLimitSeconds;
  if (typeof raw.w !== 'number' || !Number.isSafeInteger(raw.w) || raw.w < 0 || raw.w > limit)
    throw new JobParametersError(`${RELEASE_GATE_ENVIRONMENT} has no valid wait (0 to ${limit} s): redeploy the image pipeline`);
  if (!Array.isArray(raw.a) || !raw.a.every((e) => Array.isArray(e) && e.length === 3 && e.every((x) => typeof x === 'string'))) {
    throw new JobParametersError(`${RELEASE_GATE_ENVIRONMENT} has no valid allow list: redeploy the image pipeline`);
  }
  const allow = (raw.a as [string, string, string][]).map(([id, expires, reason]) => ({ id, expires, reason }));
  const problems = vulnerabilityPolicyProblems({ blockAt, allow });
  if (problems.length)
    throw new JobParametersError(`${RELEASE_GATE_ENVIRONMENT} holds a policy the gate cannot apply (${problems.join('; ')}): redeploy the image pipeline`);
  return { policy: { blockAt: blockAt as VulnerabilityPolicy['blockAt'], allow }, maxWaitSeconds: raw.w };
}
