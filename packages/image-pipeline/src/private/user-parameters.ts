import { Token } from 'aws-cdk-lib';
import { MAX_CONFIGURATION_VALUE_LENGTH, resolvedValueLength } from './configuration-values';

export { MAX_CONFIGURATION_VALUE_LENGTH, RESOLVED_VARIABLE_LENGTHS } from './configuration-values';

/** Room kept for a registry host that is resolved at deploy time: `<12 digits>.dkr.ecr.<region>.amazonaws.com.cn` fits. */
export const DEPLOY_TIME_HOST_LENGTH = 64;

/**
 * The most characters a Lambda action's `UserParameters` (JSON, as the construct writes
 * them) take when the action runs: the registry host at its longest when it is resolved at
 * deploy time, and each variable at its longest ({@link resolvedValueLength}).
 * @param action the action's name, for messages
 * @throws ImagePipelinePropsError for a variable whose longest value is not known (it could pass the limit)
 */
export function resolvedParametersLength(parameters: { readonly registryHost: string }, action = 'a Lambda'): number {
  const hostLength = Token.isUnresolved(parameters.registryHost) ? DEPLOY_TIME_HOST_LENGTH : parameters.registryHost.length;
  return resolvedValueLength(JSON.stringify({ ...parameters, registryHost: '' }), `the ${action} action's UserParameters`) + hostLength;
}

/** The `UserParameters` length check of one Lambda action: the message for parameters over the limit, else undefined. */
export function userParametersProblem(action: string, parameters: { readonly registryHost: string }): string | undefined {
  const length = resolvedParametersLength(parameters, action);
  if (length <= MAX_CONFIGURATION_VALUE_LENGTH) return undefined;
  return `the ${action} action's UserParameters take up to ${length} characters once its variables are resolved; CodePipeline allows ${MAX_CONFIGURATION_VALUE_LENGTH} in a configuration value`;
}
