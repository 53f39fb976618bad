import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageBuildSpecObject, substituteFactoryVariablesCommand } from '../src/private/buildspecs';

// The Build buildspec writes the factory's registry and namespace into devcontainer.json
// before `devcontainer build`, which does not substitute ${localEnv:…} in feature ids.
// Run the command itself with bash and sed, on a real file.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'factory-vars-'));
  mkdirSync(join(dir, '.devcontainer'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('GIVEN feature ids and values with the factory variables THEN bash and sed write the registry and namespace, and leave every other ${localEnv:…} alone', () => {
  // GIVEN
  const config = [
    '{',
    '  // a comment stays',
    '  "image": "${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/base:latest",',
    '  "features": { "${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE:devcontainers}/features/hello:1": {} },',
    '  "containerEnv": { "HOME_DIR": "${localEnv:HOME}" }',
    '}',
  ].join('\n');
  writeFileSync(join(dir, '.devcontainer/devcontainer.json'), config);

  // WHEN
  execFileSync('bash', ['-euo', 'pipefail', '-c', substituteFactoryVariablesCommand()], {
    env: { PATH: process.env.PATH, CODEBUILD_SRC_DIR: dir, DCF_REGISTRY: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', DCF_NAMESPACE: 'acme' },
  });

  // THEN
  expect(readFileSync(join(dir, '.devcontainer/devcontainer.json'), 'utf8')).toBe(
    [
      '{',
      '  // a comment stays',
      '  "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/images/base:latest",',
      '  "features": { "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/features/hello:1": {} },',
      '  "containerEnv": { "HOME_DIR": "${localEnv:HOME}" }',
      '}',
    ].join('\n'),
  );
});

test('GIVEN the Build buildspec THEN the substitution runs before devcontainer build', () => {
  const spec = imageBuildSpecObject({
    platform: 'linux/amd64',
    registryHost: 'r',
    repository: 'ns/builds/x',
    namespace: 'ns',
    devcontainerCliVersion: '0.89.0',
    buildkitImage: 'public.ecr.aws/x/y:1',
    toolBucket: 'b',
    toolKey: 'k.js',
    inputsArtifact: 'Inputs',
  });
  const commands = spec.phases.build.commands;
  const substitution = commands.indexOf(substituteFactoryVariablesCommand());
  expect(substitution).toBeGreaterThanOrEqual(0);
  expect(commands.findIndex((c) => c.includes('devcontainer build'))).toBeGreaterThan(substitution);
});
