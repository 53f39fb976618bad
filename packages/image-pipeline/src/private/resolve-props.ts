/**
 * The props of an {@link ImagePipeline}, checked and with their defaults, as a pure
 * function of the props: every check that needs no construct runs here, so the
 * constructor only wires, and the rules are tested without synthesizing a stack. Errors
 * carry no construct path; the constructor adds it (`atConstructPath`).
 */
import { RemovalPolicy, Token } from 'aws-cdk-lib';
import {
  SCAN_GATE_LIMITS,
  isPullThroughCachePrefix,
  resolveVulnerabilityPolicy,
  validateId,
  vulnerabilityPolicyProblems,
  type RefreshSchedule,
} from '@devcontainer-factory/core';
import { devcontainerCliPinProblem, pipelineResourceProblem } from '@devcontainer-factory/pipeline-parts';
import type { ImagePipelineProps, VulnerabilityGateProps } from '../image-pipeline';
import {
  COMPUTE_SIZES,
  DEFAULT_COMPUTE_SIZE,
  DEFAULT_DEVCONTAINER_CLI_VERSION,
  DEFAULT_RELEASE_TAGS,
  PLATFORMS,
  RELEASE_TAG_RULES,
  type ComputeSize,
  type PlatformName,
  type ReleaseTagRule,
} from '../image-pipeline-options';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';
import type { ResolvedVulnerabilityGate } from './stage-context';
import { checkRefresh, checkUsesFeatures } from './triggers';

/** What {@link resolveImagePipelineProps} makes of the props. */
export interface ResolvedImagePipelineProps {
  readonly imageId: string;
  readonly removalPolicy: RemovalPolicy;
  /** True when the pipeline creates `<ns>/builds/<id>` itself: no warehouse (whose creation template would) and no `stagingRepository`, but a `repository`. */
  readonly createsStagingRepository: boolean;
  readonly platforms: PlatformName[];
  readonly releaseTags: ReleaseTagRule[];
  readonly computeSize: ComputeSize;
  readonly devcontainerCliVersion: string;
  readonly devcontainerCliIntegrity?: string;
  readonly ecrPublicCachePrefix?: string;
  readonly dockerHubCachePrefix?: string;
  /** The other pull-through cache prefixes Build may pull through (the Docker Hub cache's among them), without the ECR Public cache's. */
  readonly pullThroughPrefixes: string[];
  readonly dependsOn: string[];
  readonly usesFeatures: string[];
  readonly refresh: RefreshSchedule;
  readonly releaseReservedConcurrency?: number;
  /** Absent: no gate. */
  readonly vulnerabilityGate?: ResolvedVulnerabilityGate;
}

/**
 * The props, checked, with their defaults.
 * @throws ImagePipelinePropsError naming the prop and what to pass instead
 */
export function resolveImagePipelineProps(props: ImagePipelineProps): ResolvedImagePipelineProps {
  const imageId = validateId(props.imageId, 'image id');
  if (!props.warehouse && props.stagingRepository && !props.repository) {
    throw new ImagePipelinePropsError('stagingRepository is given without repository: pass the release repository too (Release promotes from staging into it)');
  }
  if (!props.warehouse && props.sourceBucket && !props.repository) {
    throw new ImagePipelinePropsError(
      `repository is missing: with your own sourceBucket, pass the ECR repository Release writes, e.g. new ecr.Repository(this, 'Repository', { repositoryName: '${props.namespace ?? 'devcontainers'}/images/${imageId}' })`,
    );
  }
  const resourceProblem = pipelineResourceProblem(props);
  if (resourceProblem) throw new ImagePipelinePropsError(resourceProblem);
  const createsStagingRepository = !props.warehouse && !props.stagingRepository && props.repository !== undefined;
  const platforms = checkList('platforms', props.platforms ?? [...PLATFORMS], PLATFORMS);
  const releaseTags = checkList('releaseTags', props.releaseTags ?? [...DEFAULT_RELEASE_TAGS], RELEASE_TAG_RULES);
  const computeSize = props.computeSize ?? DEFAULT_COMPUTE_SIZE;
  if (!COMPUTE_SIZES.includes(computeSize)) throw new ImagePipelinePropsError(`computeSize '${computeSize}' is unknown: use ${COMPUTE_SIZES.join(', ')}`);
  const devcontainerCliVersion = props.devcontainerCliVersion ?? DEFAULT_DEVCONTAINER_CLI_VERSION;
  const cliProblem = devcontainerCliPinProblem(devcontainerCliVersion, props.devcontainerCliIntegrity);
  if (cliProblem) throw new ImagePipelinePropsError(cliProblem);
  const cachePrefix = props.ecrPublicCachePrefix;
  if (cachePrefix !== undefined) checkCachePrefix(cachePrefix, 'ecrPublicCachePrefix');
  const dockerHubCachePrefix = props.dockerHubCachePrefix;
  if (dockerHubCachePrefix !== undefined) checkCachePrefix(dockerHubCachePrefix, 'dockerHubCachePrefix');
  if (dockerHubCachePrefix !== undefined && dockerHubCachePrefix === cachePrefix)
    throw new ImagePipelinePropsError(`dockerHubCachePrefix '${dockerHubCachePrefix}' is the ECR Public cache's prefix: give the Docker Hub cache's own`);
  const pullThroughPrefixes = [...new Set([...(props.pullThroughCachePrefixes ?? []), ...(dockerHubCachePrefix ? [dockerHubCachePrefix] : [])])].filter(
    (p) => p !== cachePrefix,
  );
  for (const prefix of pullThroughPrefixes) checkCachePrefix(prefix, 'pullThroughCachePrefixes');
  const dependsOn = (props.dependsOn ?? []).map((base) => validateId(base, `dependsOn of image '${imageId}': image id`));
  if (dependsOn.includes(imageId)) throw new ImagePipelinePropsError(`image '${imageId}' cannot depend on itself: remove it from dependsOn`);
  if (new Set(dependsOn).size !== dependsOn.length)
    throw new ImagePipelinePropsError(`dependsOn of image '${imageId}' names an image more than once: name each once`);
  const refresh = checkRefresh(props.refresh);
  const usesFeatures = checkUsesFeatures(imageId, props.usesFeatures);
  const releaseReservedConcurrency = checkReservedConcurrency(props.releaseReservedConcurrency);
  const vulnerabilityGate = resolveGate(props.vulnerabilityGate, createsStagingRepository);
  return {
    imageId,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    createsStagingRepository,
    platforms,
    releaseTags,
    computeSize,
    devcontainerCliVersion,
    ...(props.devcontainerCliIntegrity !== undefined && { devcontainerCliIntegrity: props.devcontainerCliIntegrity }),
    ...(cachePrefix !== undefined && { ecrPublicCachePrefix: cachePrefix }),
    ...(dockerHubCachePrefix !== undefined && { dockerHubCachePrefix }),
    pullThroughPrefixes,
    dependsOn,
    usesFeatures,
    refresh,
    ...(releaseReservedConcurrency !== undefined && { releaseReservedConcurrency }),
    ...(vulnerabilityGate && { vulnerabilityGate }),
  };
}

function checkList<T extends string>(prop: string, values: readonly T[], allowed: readonly string[]): T[] {
  if (values.length === 0) throw new ImagePipelinePropsError(`${prop} must not be empty: name at least one of ${allowed.join(', ')}`);
  const unknown = values.filter((v) => !allowed.includes(v));
  if (unknown.length)
    throw new ImagePipelinePropsError(
      `${prop} has unknown value${unknown.length > 1 ? 's' : ''} ${unknown.map((v) => `'${v}'`).join(', ')}: use ${allowed.join(', ')}`,
    );
  const duplicates = values.filter((v, i) => values.indexOf(v) !== i);
  if (duplicates.length)
    throw new ImagePipelinePropsError(`${prop} names ${[...new Set(duplicates)].map((v) => `'${v}'`).join(', ')} more than once: name each once`);
  return [...values];
}

/** The gate's settings, checked, or undefined for no gate; see {@link ImagePipelineProps.vulnerabilityGate}. */
function resolveGate(props: VulnerabilityGateProps | false | undefined, scannedStaging: boolean): ResolvedVulnerabilityGate | undefined {
  if (props === false || (props === undefined && !scannedStaging)) return undefined;
  const gate = props ?? {};
  const problems = vulnerabilityPolicyProblems(gate);
  if (problems.length) throw new ImagePipelinePropsError(problems.map((p) => `vulnerabilityGate.${p}`).join('; '));
  const maxWaitSeconds = gate.maxWait?.toSeconds() ?? SCAN_GATE_LIMITS.maxWaitSeconds;
  if (!Number.isInteger(maxWaitSeconds) || maxWaitSeconds < 0 || maxWaitSeconds > SCAN_GATE_LIMITS.maxWaitLimitSeconds) {
    throw new ImagePipelinePropsError(
      `vulnerabilityGate.maxWait is ${maxWaitSeconds} s: use 0 to ${SCAN_GATE_LIMITS.maxWaitLimitSeconds / 60} minutes (the Release Lambda runs 15)`,
    );
  }
  return { policy: resolveVulnerabilityPolicy(gate), maxWaitSeconds, enhancedScanning: gate.enhancedScanning ?? false };
}

function checkReservedConcurrency(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (Token.isUnresolved(value) || !Number.isSafeInteger(value) || value < 1) {
    throw new ImagePipelinePropsError(
      `releaseReservedConcurrency must be a whole number of at least 1 known at synthesis, not ${Token.isUnresolved(value) ? 'a token' : value}: use 1 for one Release at a time, or leave it out`,
    );
  }
  return value;
}

function checkCachePrefix(prefix: string, prop: string): void {
  if (!isPullThroughCachePrefix(prefix)) {
    throw new ImagePipelinePropsError(
      `${prop} '${prefix}' is not an ECR pull-through cache prefix: use 2 to 30 lowercase characters in '/'-separated components, e.g. 'devcontainers/ecr-public'`,
    );
  }
}
