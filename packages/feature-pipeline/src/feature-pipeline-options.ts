/**
 * The per-feature choices of a feature pipeline and their defaults, in one place.
 * The compute sizes are defined once, in `@devcontainer-factory/core`.
 */
import { DEVCONTAINER_CLI_VERSION, FEATURE_COMPUTE_SIZES, type FeatureComputeSize } from '@devcontainer-factory/core';

/**
 * CodeBuild on-demand compute of the Test and Publish projects:
 * small = 2 vCPU / 4 GiB, medium = 4 vCPU / 8 GiB, large = 8 vCPU / 16 GiB.
 */
export type { FeatureComputeSize };

/** Every compute size (from core). */
export { FEATURE_COMPUTE_SIZES };
/** 2 vCPU / 4 GiB: a feature installs into a test container in a few minutes. */
export const DEFAULT_FEATURE_COMPUTE_SIZE: FeatureComputeSize = 'small';
/** The `@devcontainers/cli` version Test and Publish install; the one the factory's tests publish with. */
export const DEFAULT_FEATURE_DEVCONTAINER_CLI_VERSION = DEVCONTAINER_CLI_VERSION;
