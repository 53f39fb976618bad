/**
 * CodePipeline holds each configuration value of an action (a CodeBuild action's
 * `EnvironmentVariables`, a Lambda action's `UserParameters`) to 1,000 characters, and
 * checks it as written while the action runs with its variables resolved: the construct
 * refuses at synth what could pass the limit once resolved.
 */
import { Lazy } from 'aws-cdk-lib';
import { BUILD_ID_LENGTH, MAX_BUILD_INPUTS } from '@devcontainer-factory/core';
import { ImagePipelinePropsError } from '../src';
import {
  MAX_CONFIGURATION_VALUE_LENGTH,
  environmentVariablesProblem,
  environmentVariablesValue,
  resolvedValueLength,
} from '../src/private/configuration-values';

test('a variable counts at its longest value, not at the length of its expression', () => {
  const value = environmentVariablesValue({ BUILD_ID: '#{Prepare.BuildId}' });
  expect(resolvedValueLength(value, 'x')).toBe(value.length - '#{Prepare.BuildId}'.length + BUILD_ID_LENGTH);
});

test('EnvironmentVariables that fit once resolved pass; one character more is refused, naming the action and the limit', () => {
  // GIVEN a value that takes exactly the limit with #{Prepare.BuildId} at its 16 characters
  const room = (pad: number) => ({ BUILD_ID: '#{Prepare.BuildId}', PAD: 'p'.repeat(pad) });
  const base = resolvedValueLength(environmentVariablesValue(room(0)), 'x');
  const fits = room(MAX_CONFIGURATION_VALUE_LENGTH - base);

  // THEN
  expect(resolvedValueLength(environmentVariablesValue(fits), 'x')).toBe(MAX_CONFIGURATION_VALUE_LENGTH);
  expect(environmentVariablesProblem('BuildAmd64', fits)).toBeUndefined();
  expect(environmentVariablesProblem('BuildAmd64', room(MAX_CONFIGURATION_VALUE_LENGTH - base + 1))).toBe(
    `the BuildAmd64 action's EnvironmentVariables take up to ${MAX_CONFIGURATION_VALUE_LENGTH + 1} characters once its variables are resolved; CodePipeline allows ${MAX_CONFIGURATION_VALUE_LENGTH} in a configuration value`,
  );
});

test(`the input record (up to ${MAX_BUILD_INPUTS} inputs) has no bound a configuration value can hold: naming it is refused`, () => {
  expect(() => environmentVariablesProblem('BuildAmd64', { BUILD_ID: '#{Prepare.BuildId}', BUILD_INPUTS: '#{Prepare.Inputs}' })).toThrow(
    ImagePipelinePropsError,
  );
  expect(() => environmentVariablesProblem('BuildAmd64', { BUILD_INPUTS: '#{Prepare.Inputs}' })).toThrow(
    /names #\{Prepare\.Inputs\}, whose longest value is not known/,
  );
});

test('a value resolved at deploy time has no length at synth: refused, naming the variable', () => {
  const token = Lazy.string({ produce: () => 'x' });
  expect(() => environmentVariablesProblem('BuildAmd64', { BUILD_ID: '#{Prepare.BuildId}', HOST: token })).toThrow(/HOST is resolved at deploy time/);
});
