/**
 * The props of a {@link FeaturePipeline}, checked and with their defaults, as a pure
 * function of the props, so the constructor only wires and the rules are tested without
 * a stack. Errors carry no construct path; the constructor adds it (`atConstructPath`).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { validateId } from '@devcontainer-factory/core';
import { devcontainerCliPinProblem, pipelineResourceProblem } from '@devcontainer-factory/pipeline-parts';
import type { FeaturePipelineProps } from '../feature-pipeline';
import {
  DEFAULT_FEATURE_COMPUTE_SIZE,
  DEFAULT_FEATURE_DEVCONTAINER_CLI_VERSION,
  FEATURE_COMPUTE_SIZES,
  type FeatureComputeSize,
} from '../feature-pipeline-options';
import { FeaturePipelinePropsError } from '../feature-pipeline-props-error';

/** What {@link resolveFeaturePipelineProps} makes of the props. */
export interface ResolvedFeaturePipelineProps {
  readonly featureId: string;
  readonly removalPolicy: RemovalPolicy;
  readonly computeSize: FeatureComputeSize;
  readonly devcontainerCliVersion: string;
  readonly devcontainerCliIntegrity?: string;
}

/**
 * The props, checked, with their defaults.
 * @throws FeaturePipelinePropsError naming the prop and what to pass instead
 */
export function resolveFeaturePipelineProps(props: FeaturePipelineProps): ResolvedFeaturePipelineProps {
  const featureId = validateId(props.featureId, 'feature id');
  const resourceProblem = pipelineResourceProblem(props);
  if (resourceProblem) throw new FeaturePipelinePropsError(resourceProblem);
  const computeSize = props.computeSize ?? DEFAULT_FEATURE_COMPUTE_SIZE;
  if (!FEATURE_COMPUTE_SIZES.includes(computeSize))
    throw new FeaturePipelinePropsError(`computeSize '${computeSize}' is unknown: use ${FEATURE_COMPUTE_SIZES.join(', ')}`);
  const devcontainerCliVersion = props.devcontainerCliVersion ?? DEFAULT_FEATURE_DEVCONTAINER_CLI_VERSION;
  const cliProblem = devcontainerCliPinProblem(devcontainerCliVersion, props.devcontainerCliIntegrity);
  if (cliProblem) throw new FeaturePipelinePropsError(cliProblem);
  return {
    featureId,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    computeSize,
    devcontainerCliVersion,
    ...(props.devcontainerCliIntegrity !== undefined && { devcontainerCliIntegrity: props.devcontainerCliIntegrity }),
  };
}
