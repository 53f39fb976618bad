/**
 * The shape every buildspec of the factory has, built in one place: CodeBuild's
 * version 0.2 in bash, values fixed at synth time in `env.variables`, and an
 * install phase that installs the pinned devcontainer CLI on the Node.js runtime of
 * the Amazon Linux 2023 CodeBuild images. The image and feature pipelines only
 * add their own variables and commands.
 */
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { DEVCONTAINER_CLI_VERSION, FactoryError } from '@devcontainer-factory/core';

/** The Node.js that runs the devcontainer CLI (a runtime of the Amazon Linux 2023 CodeBuild images). */
export const NODEJS_RUNTIME = '22';

/** The phases of a buildspec, in the order CodeBuild runs them. */
export const BUILD_SPEC_PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;
export type BuildSpecPhaseName = (typeof BUILD_SPEC_PHASES)[number];

/** One phase: the commands CodeBuild runs in order, stopping at the first that exits non-zero. */
export interface BuildSpecPhase {
  readonly 'runtime-versions'?: Readonly<Record<string, string>>;
  readonly commands: readonly string[];
}

/** A buildspec as a plain object (what `BuildSpec.fromObject` takes), for tests to read and run. */
export interface BuildSpecObject {
  readonly version: '0.2';
  readonly env: { readonly shell: 'bash'; readonly variables: Readonly<Record<string, string>> };
  readonly phases: {
    readonly install: BuildSpecPhase;
    readonly pre_build: BuildSpecPhase;
    readonly build: BuildSpecPhase;
    readonly post_build?: BuildSpecPhase;
  };
}

/** What {@link buildSpec} puts into a buildspec besides the devcontainer CLI. */
export interface BuildSpecProps {
  /** `env.variables`, fixed at synth time; values may be tokens. */
  readonly variables: Readonly<Record<string, string>>;
  /**
   * Commands of the install phase after the devcontainer CLI is installed.
   * @default - none
   */
  readonly install?: readonly string[];
  /**
   * Commands of the pre_build phase.
   * @default - none
   */
  readonly preBuild?: readonly string[];
  /** Commands of the build phase. */
  readonly build: readonly string[];
  /**
   * The exact `@devcontainers/cli` version to install (`DEVCONTAINER_CLI_VERSION` in `env.variables`).
   * @default - DEVCONTAINER_CLI_VERSION of `@devcontainer-factory/core`, the version the factory is tested with
   */
  readonly devcontainerCliVersion?: string;
}

/** A buildspec that {@link buildSpec} cannot build. */
export class BuildSpecError extends FactoryError {}

/** The variable of {@link buildSpec} that names the `@devcontainers/cli` version to install. */
export const DEVCONTAINER_CLI_VERSION_VARIABLE = 'DEVCONTAINER_CLI_VERSION';

/** Installs the devcontainer CLI of `$DEVCONTAINER_CLI_VERSION` and prints its version. */
export function devcontainerCliInstallCommands(): string[] {
  return [`npm install --global --no-fund --no-audit "@devcontainers/cli@\${${DEVCONTAINER_CLI_VERSION_VARIABLE}}"`, 'devcontainer --version'];
}

/** Where a pipeline's buildspecs put their CodeBuild tool and work files (`$WORK`), outside the source folder. */
export const TOOL_WORK_DIR = '/tmp/devcontainer-factory';

/** The variables {@link fetchToolCommands} reads: `WORK` and the bucket and key of the tool's CDK asset (tokens allowed). */
export function toolVariables(bucket: string, key: string): Record<'WORK' | 'TOOL_BUCKET' | 'TOOL_KEY', string> {
  return { WORK: TOOL_WORK_DIR, TOOL_BUCKET: bucket, TOOL_KEY: key };
}

/** Fetches a tool's bundle from its CDK asset to `destination` (a shell word, e.g. `"$WORK/image-tool.js"`). */
export function fetchToolCommands(destination: string): string[] {
  return ['mkdir -p "$WORK"', `aws s3 cp --only-show-errors "s3://\${TOOL_BUCKET}/\${TOOL_KEY}" ${destination}`];
}

/** A version 0.2 buildspec in bash whose install phase installs the pinned devcontainer CLI. */
export function buildSpec(props: BuildSpecProps): BuildSpecObject {
  if (DEVCONTAINER_CLI_VERSION_VARIABLE in props.variables) {
    throw new BuildSpecError(`${DEVCONTAINER_CLI_VERSION_VARIABLE} is set by buildSpec(): pass devcontainerCliVersion instead of a variable`);
  }
  return {
    version: '0.2',
    env: {
      shell: 'bash',
      variables: { [DEVCONTAINER_CLI_VERSION_VARIABLE]: props.devcontainerCliVersion ?? DEVCONTAINER_CLI_VERSION, ...props.variables },
    },
    phases: {
      install: { 'runtime-versions': { nodejs: NODEJS_RUNTIME }, commands: [...devcontainerCliInstallCommands(), ...(props.install ?? [])] },
      pre_build: { commands: [...(props.preBuild ?? [])] },
      build: { commands: [...props.build] },
    },
  };
}

/** The CodeBuild `BuildSpec` of a {@link BuildSpecObject}. */
export function toCodeBuildSpec(spec: BuildSpecObject): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject(spec);
}
