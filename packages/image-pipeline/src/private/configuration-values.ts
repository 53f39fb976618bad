import { Token } from 'aws-cdk-lib';
import { BUILD_ID_LENGTH, MAX_VERSION_LENGTH, NO_VERSION, PREPARE_VARIABLES } from '@devcontainer-factory/core';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';

/**
 * CodePipeline's limit on one value of an action's configuration (a Lambda action's
 * `UserParameters`, a CodeBuild action's `EnvironmentVariables`): 1,000 characters.
 * CodePipeline checks it on the value as written, and a variable's value replaces its
 * `#{…}` when the action runs, so the value must fit with every variable at its longest.
 */
export const MAX_CONFIGURATION_VALUE_LENGTH = 1000;

/**
 * The longest value of each Prepare variable that an action's configuration may name.
 * The build's input record is not among them on purpose: it grows with the
 * configuration's inputs (far past the limit at `MAX_BUILD_INPUTS`), so it travels as
 * Prepare's output artifact, which Manifest and Build take as an input artifact.
 */
export const RESOLVED_VARIABLE_LENGTHS: Readonly<Record<string, number>> = {
  [`#{Prepare.${PREPARE_VARIABLES.buildId}}`]: BUILD_ID_LENGTH,
  [`#{Prepare.${PREPARE_VARIABLES.version}}`]: Math.max(MAX_VERSION_LENGTH, NO_VERSION.length),
  [`#{Prepare.${PREPARE_VARIABLES.released}}`]: 'false'.length,
};

const VARIABLE = /#\{[A-Za-z0-9@\-_]+\.[A-Za-z0-9@\-_]+\}/g;

/**
 * The most characters `value` (a configuration value as the construct writes it, with no
 * deploy-time tokens) takes once CodePipeline resolves its variables, each at its longest.
 * @param where the value, for messages: `the Manifest action's UserParameters`
 * @throws ImagePipelinePropsError for a variable whose longest value is not known: it could pass the limit
 */
export function resolvedValueLength(value: string, where: string): number {
  let length = value.length;
  for (const variable of value.match(VARIABLE) ?? []) {
    const longest = RESOLVED_VARIABLE_LENGTHS[variable];
    if (longest === undefined) {
      throw new ImagePipelinePropsError(
        `${where} names ${variable}, whose longest value is not known: CodePipeline allows ${MAX_CONFIGURATION_VALUE_LENGTH} characters in a configuration value once its variables are resolved, so pass what it holds as an artifact, or give its bound in RESOLVED_VARIABLE_LENGTHS`,
      );
    }
    length += longest - variable.length;
  }
  return length;
}

/**
 * A CodeBuild action's `EnvironmentVariables` as CodePipeline holds it: the JSON list CDK
 * writes from the action's plain-text variables (`Project.serializeEnvVariables`).
 */
export function environmentVariablesValue(variables: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(variables).map(([name, value]) => ({ name, type: 'PLAINTEXT', value })));
}

/**
 * The length check of one CodeBuild action's `EnvironmentVariables`: the message for
 * variables over the limit once resolved, else undefined.
 * @throws ImagePipelinePropsError for a value resolved at deploy time (its length is not known here) or a variable with no known bound
 */
export function environmentVariablesProblem(action: string, variables: Readonly<Record<string, string>>): string | undefined {
  const where = `the ${action} action's EnvironmentVariables`;
  const deployTime = Object.keys(variables).filter((name) => Token.isUnresolved(variables[name]));
  if (deployTime.length)
    throw new ImagePipelinePropsError(
      `${where}: ${deployTime.join(', ')} ${deployTime.length > 1 ? 'are' : 'is'} resolved at deploy time, so the value's length is not known at synth: put it in the project's buildspec instead`,
    );
  const length = resolvedValueLength(environmentVariablesValue(variables), where);
  if (length <= MAX_CONFIGURATION_VALUE_LENGTH) return undefined;
  return `${where} take up to ${length} characters once its variables are resolved; CodePipeline allows ${MAX_CONFIGURATION_VALUE_LENGTH} in a configuration value`;
}
