import { Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { Template } from 'aws-cdk-lib/assertions';
import { DEVCONTAINER_CLI_VERSION } from '@devcontainer-factory/core';
import { BuildSpecError, NODEJS_RUNTIME, buildSpec, devcontainerCliInstallCommands, toCodeBuildSpec } from '../src';

describe('buildSpec', () => {
  test('installs the devcontainer CLI pinned by core on the Node.js runtime, before the caller\'s install commands', () => {
    // WHEN
    const spec = buildSpec({ variables: { REGISTRY: 'r' }, install: ['echo more'], preBuild: ['echo pre'], build: ['echo build'] });

    // THEN
    expect(spec.version).toBe('0.2');
    expect(spec.env).toEqual({ shell: 'bash', variables: { DEVCONTAINER_CLI_VERSION, REGISTRY: 'r' } });
    expect(spec.phases.install).toEqual({ 'runtime-versions': { nodejs: NODEJS_RUNTIME }, commands: [...devcontainerCliInstallCommands(), 'echo more'] });
    expect(spec.phases.pre_build.commands).toEqual(['echo pre']);
    expect(spec.phases.build.commands).toEqual(['echo build']);
    expect(spec.phases.post_build).toBeUndefined();
  });

  test('the install command names the version through DEVCONTAINER_CLI_VERSION, which the caller may override', () => {
    // WHEN
    const spec = buildSpec({ variables: {}, build: [], devcontainerCliVersion: '0.88.1' });

    // THEN
    expect(spec.env.variables.DEVCONTAINER_CLI_VERSION).toBe('0.88.1');
    expect(spec.phases.install.commands[0]).toBe('npm install --global --no-fund --no-audit "@devcontainers/cli@${DEVCONTAINER_CLI_VERSION}"');
    expect(spec.phases.pre_build.commands).toEqual([]);
  });

  test('refuses a DEVCONTAINER_CLI_VERSION variable, which would silently replace the pinned version', () => {
    expect(() => buildSpec({ variables: { DEVCONTAINER_CLI_VERSION: '1.0.0' }, build: [] })).toThrow(BuildSpecError);
    expect(() => buildSpec({ variables: { DEVCONTAINER_CLI_VERSION: '1.0.0' }, build: [] })).toThrow(/pass devcontainerCliVersion instead/);
  });

  test('toCodeBuildSpec gives a project the same buildspec', () => {
    // GIVEN
    const stack = new Stack();
    const spec = buildSpec({ variables: { A: 'b' }, build: ['echo hi'] });

    // WHEN
    new codebuild.Project(stack, 'P', { buildSpec: toCodeBuildSpec(spec) });

    // THEN
    const project = Object.values(Template.fromStack(stack).findResources('AWS::CodeBuild::Project'))[0] as { Properties: { Source: { BuildSpec: string } } };
    expect(JSON.parse(project.Properties.Source.BuildSpec)).toEqual(spec);
  });
});
