/**
 * The shape every buildspec of the factory has, built in one place: CodeBuild's
 * version 0.2 in bash, values fixed at synth time in `env.variables`, and an
 * install phase that installs the pinned devcontainer CLI on the Node.js runtime of
 * the Amazon Linux 2023 CodeBuild images, from its npm tarball checked against the
 * pinned integrity. The image and feature pipelines only add their own variables and
 * commands.
 */
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import {
  DEVCONTAINER_CLI_INTEGRITY,
  DEVCONTAINER_CLI_PACKAGE,
  DEVCONTAINER_CLI_VERSION,
  FactoryError,
  integritySha512Hex,
  isSemver,
} from '@devcontainer-factory/core';

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
  /**
   * The npm integrity (`sha512-…`, `npm view @devcontainers/cli@<version> dist.integrity`) of
   * that version's tarball: the install phase refuses a tarball with another SHA-512
   * (`DEVCONTAINER_CLI_SHA512` in `env.variables`). Required with a `devcontainerCliVersion`
   * other than core's.
   * @default - DEVCONTAINER_CLI_INTEGRITY of `@devcontainer-factory/core`, with its version
   */
  readonly devcontainerCliIntegrity?: string;
}

/** A buildspec that {@link buildSpec} cannot build. */
export class BuildSpecError extends FactoryError {}

/** The variable of {@link buildSpec} that names the `@devcontainers/cli` version to install. */
export const DEVCONTAINER_CLI_VERSION_VARIABLE = 'DEVCONTAINER_CLI_VERSION';
/** The variable of {@link buildSpec} that holds the hex SHA-512 its tarball must have. */
export const DEVCONTAINER_CLI_SHA512_VARIABLE = 'DEVCONTAINER_CLI_SHA512';

const NPM_SHA512_INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/;

/**
 * What is wrong with a devcontainer CLI pin (`devcontainerCliVersion`, `devcontainerCliIntegrity`
 * of a buildspec or a pipeline), or undefined when it can be installed: an exact version, and
 * the npm integrity of its tarball, which only core's pinned version may leave out.
 */
export function devcontainerCliPinProblem(version: string | undefined, integrity: string | undefined): string | undefined {
  const v = version ?? DEVCONTAINER_CLI_VERSION;
  if (!isSemver(v))
    return `devcontainerCliVersion '${v}' must be an exact version such as ${DEVCONTAINER_CLI_VERSION}, so that every run installs the same CLI`;
  if (integrity === undefined) {
    return v === DEVCONTAINER_CLI_VERSION
      ? undefined
      : `devcontainerCliVersion '${v}' needs its npm integrity, which the install checks the tarball against: pass devcontainerCliIntegrity, the output of 'npm view ${DEVCONTAINER_CLI_PACKAGE}@${v} dist.integrity'`;
  }
  if (!NPM_SHA512_INTEGRITY.test(integrity))
    return `devcontainerCliIntegrity '${integrity}' is not an npm sha512 integrity: use the output of 'npm view ${DEVCONTAINER_CLI_PACKAGE}@${v} dist.integrity' (sha512-…==)`;
  if (v === DEVCONTAINER_CLI_VERSION && integrity !== DEVCONTAINER_CLI_INTEGRITY) {
    return `devcontainerCliIntegrity '${integrity}' is not the integrity of ${DEVCONTAINER_CLI_PACKAGE}@${v} (${DEVCONTAINER_CLI_INTEGRITY}): npm never changes a published version, so leave it out or check where it came from`;
  }
  return undefined;
}

/**
 * An npm package tarball to fetch and check (see {@link checkedNpmPackCommands}). Each value is
 * put inside double quotes in bash, so it may name variables: `\${SBOM_PLUGINS_VERSION}`.
 */
export interface CheckedNpmPack {
  /** `name@version`, e.g. `@devcontainers/cli@\${DEVCONTAINER_CLI_VERSION}`. */
  readonly packageSpec: string;
  /** The hex SHA-512 the tarball must have, e.g. `\${DEVCONTAINER_CLI_SHA512}`. */
  readonly sha512: string;
  /** The folder `npm pack` writes to, which must exist, e.g. `$WORK`. */
  readonly destination: string;
  /** The variable the commands set to the tarball's path, e.g. `DEVCONTAINER_CLI_TGZ`. */
  readonly tarballVariable: string;
}

/**
 * Fetches a pinned npm package's tarball with `npm pack` (from the registry npm is
 * configured with) and checks its SHA-512 before anything of it is unpacked or run: a
 * tarball that differs fails the command, naming what it is not. The package tools of
 * every buildspec (the devcontainer CLI, the SBOM generator) come through here.
 */
export function checkedNpmPackCommands(o: CheckedNpmPack): string[] {
  const tgz = `\${${o.tarballVariable}}`;
  return [
    `${o.tarballVariable}="${o.destination}/$(npm pack --silent --pack-destination "${o.destination}" "${o.packageSpec}")"`,
    `echo "${o.sha512}  ${tgz}" | sha512sum --check --strict --status || { echo "${tgz} is not the ${o.packageSpec} the factory pins (its SHA-512 differs): refusing to run it" >&2; exit 1; }`,
  ];
}

/**
 * Installs the devcontainer CLI of `$DEVCONTAINER_CLI_VERSION` from its npm tarball, checked
 * against `$DEVCONTAINER_CLI_SHA512` first, and prints its version. The install is offline
 * (the package has no dependencies, so nothing unpinned can come from the registry; a version
 * that had some would fail here) and runs no package scripts.
 */
export function devcontainerCliInstallCommands(): string[] {
  return [
    'DEVCONTAINER_CLI_DIR="$(mktemp -d)"',
    ...checkedNpmPackCommands({
      packageSpec: `${DEVCONTAINER_CLI_PACKAGE}@\${${DEVCONTAINER_CLI_VERSION_VARIABLE}}`,
      sha512: `\${${DEVCONTAINER_CLI_SHA512_VARIABLE}}`,
      destination: '$DEVCONTAINER_CLI_DIR',
      tarballVariable: 'DEVCONTAINER_CLI_TGZ',
    }),
    'npm install --global --offline --ignore-scripts --no-fund --no-audit "$DEVCONTAINER_CLI_TGZ" && rm -rf "$DEVCONTAINER_CLI_DIR"',
    'devcontainer --version',
  ];
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

/** A version 0.2 buildspec in bash whose install phase installs the pinned devcontainer CLI, checked against its pinned integrity. */
export function buildSpec(props: BuildSpecProps): BuildSpecObject {
  for (const [variable, prop] of [
    [DEVCONTAINER_CLI_VERSION_VARIABLE, 'devcontainerCliVersion'],
    [DEVCONTAINER_CLI_SHA512_VARIABLE, 'devcontainerCliIntegrity'],
  ]) {
    if (variable in props.variables) throw new BuildSpecError(`${variable} is set by buildSpec(): pass ${prop} instead of a variable`);
  }
  const problem = devcontainerCliPinProblem(props.devcontainerCliVersion, props.devcontainerCliIntegrity);
  if (problem) throw new BuildSpecError(problem);
  return {
    version: '0.2',
    env: {
      shell: 'bash',
      variables: {
        [DEVCONTAINER_CLI_VERSION_VARIABLE]: props.devcontainerCliVersion ?? DEVCONTAINER_CLI_VERSION,
        [DEVCONTAINER_CLI_SHA512_VARIABLE]: integritySha512Hex(props.devcontainerCliIntegrity ?? DEVCONTAINER_CLI_INTEGRITY),
        ...props.variables,
      },
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
