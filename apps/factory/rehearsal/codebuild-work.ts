/**
 * What the image pipeline's CodeBuild projects do to the registry, done with the project
 * role's own registry login through the gateway, so that each push and pull meets the
 * project role's policies and the repository's. The buildspecs themselves are tested
 * command by command elsewhere (image-pipeline's buildspecs test); CodeBuild's images,
 * BuildKit and the devcontainer CLI cannot run here, so the rehearsal stands in for them:
 *
 * - Build (`devcontainer build --push`): pulls the inputs Prepare resolved in the
 *   account's registry (base images, features), then pushes one single-platform image per architecture,
 *   `<build>-<arch>` in staging, whose layer holds the build id and the configuration's
 *   digest and whose config carries the `devcontainer.metadata` label.
 * - Test (`docker pull` of `<build>` and its checks): the index and the platform's image
 *   are pulled and checked as the Test buildspec checks them (platform, label).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  INPUTS_ARTIFACT_VARIABLE,
  OciRegistry,
  parseImageReference,
  parseInputsArtifact,
  parseManifest,
  readZip,
  type InputRecord,
} from '@devcontainer-factory/core';
import { PINNED_DEVCONTAINER_CLI, npmPackFileName, pinnedNpmTarball, runBuildSpec, type BuildSpecObject } from '@devcontainer-factory/pipeline-parts';
import type { CodeBuildWork, RehearsalProject } from './action-executors';
import { ActionFailedError } from './pipeline-engine';

/** One file in a tar stream (ustar). */
function tarFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

/** The registry as the project role reaches it: the gateway's host, with the role's login. */
async function registryOf(run: Parameters<CodeBuildWork>[0], gatewayHost: string): Promise<OciRegistry> {
  const login = await run.aws.registryLogin();
  return new OciRegistry({ host: gatewayHost, username: login.username, password: login.password });
}

const need = (env: Readonly<Record<string, string>>, name: string): string => {
  const value = env[name];
  if (!value || /^#\{/.test(value)) throw new ActionFailedError(`${name} is not set (${value ?? 'missing'}): start this project from its pipeline`);
  return value;
};

/**
 * What BuildKit and the devcontainer CLI pull of an input in the account's registry, as
 * the project role: the manifest at the digest Prepare resolved, the platform's image of
 * an index, and its blobs (a base image's config and layers, a feature's tarball).
 */
async function pullInput(registry: OciRegistry, repository: string, digest: string, arch: string): Promise<number> {
  const top = await registry.getManifest(repository, digest);
  if (!top) throw new ActionFailedError(`${repository}@${digest} does not exist: the build cannot pull an input Prepare resolved`);
  let parsed = parseManifest(top, `${repository}@${digest}`);
  if (parsed.kind === 'index') {
    const entry = parsed.index.manifests.find((m) => m.platform?.architecture === arch) ?? parsed.index.manifests[0];
    const child = entry && (await registry.getManifest(repository, entry.digest));
    if (!child) throw new ActionFailedError(`${repository}@${digest} has no ${arch} image to pull`);
    parsed = parseManifest(child, `${repository}@${entry.digest}`);
  }
  if (parsed.kind !== 'image') return 0;
  const blobs = [parsed.manifest.config, ...parsed.manifest.layers];
  for (const blob of blobs) await registry.getBlob(repository, blob.digest);
  return blobs.length;
}

/** Build: pulls its inputs, then pushes `<build>-<arch>` to the project's repository. */
export function imageBuildWork(gatewayHost: string, accountRegistryHost: string, now: () => Date): CodeBuildWork {
  return async (run) => {
    const repository = need(run.environment, 'REPOSITORY');
    const buildId = need(run.environment, 'BUILD_ID');
    const arch = need(run.environment, 'ARCH');
    if (!/^[0-9a-f]{16}$/.test(buildId)) throw new ActionFailedError(`BUILD_ID must be the 16 hex digits of #{Prepare.BuildId}, got '${buildId}'`);
    // The input record: inputs.json of Prepare's output artifact, the secondary source INPUTS_ARTIFACT names.
    const artifact = need(run.environment, INPUTS_ARTIFACT_VARIABLE);
    const zip = run.secondarySources.get(artifact);
    if (!zip)
      throw new ActionFailedError(
        `the action gives no secondary source ${artifact} ($CODEBUILD_SRC_DIR_${artifact} is not set): Build reads Prepare's input record from it`,
      );
    let record: InputRecord;
    try {
      record = parseInputsArtifact(zip, `the ${artifact} artifact`).record;
    } catch (error) {
      throw new ActionFailedError((error as Error).message);
    }
    const registry = await registryOf(run, gatewayHost);
    let pulled = 0;
    for (const input of record.inputs) {
      const ref = parseImageReference(input.reference);
      if (ref?.host === accountRegistryHost) pulled += await pullInput(registry, ref.repository, input.digest, arch);
    }
    const configuration = `sha256:${createHash('sha256').update(run.source).digest('hex')}`;
    const layer = gzipSync(tarFile('etc/devcontainer-factory-build', Buffer.from(`${buildId} ${configuration} ${arch}\n`)));
    const pushed = await registry.pushImage(repository, `${buildId}-${arch}`, {
      config: {
        architecture: arch,
        os: 'linux',
        ...(arch === 'arm64' && { variant: 'v8' }),
        created: now().toISOString(),
        config: { Labels: { 'devcontainer.metadata': JSON.stringify([{ id: 'rehearsal' }]) } },
        rootfs: { type: 'layers', diff_ids: [] },
      },
      layers: [{ bytes: layer }],
    });
    return `pulled ${record.inputs.length} input(s) (${pulled} blobs), pushed ${repository}:${buildId}-${arch} (${pushed.digest})`;
  };
}

/**
 * Test: pulls `<build>` and the platform's image, and checks platform and label. The
 * configuration's own test (`test-project/test.sh` in the container) cannot run here;
 * `failure(repository)` says what it would report when a scenario makes it fail.
 */
export function imageTestWork(gatewayHost: string, failure: (repository: string) => string | undefined = () => undefined): CodeBuildWork {
  return async (run) => {
    const repository = need(run.environment, 'REPOSITORY');
    const buildId = need(run.environment, 'BUILD_ID');
    const platform = need(run.environment, 'PLATFORM');
    const registry = await registryOf(run, gatewayHost);
    const index = await registry.getManifest(repository, buildId);
    if (!index) throw new ActionFailedError(`${repository}:${buildId} does not exist: docker pull failed`);
    const parsed = parseManifest(index, `${repository}:${buildId}`);
    const [os, architecture] = platform.split('/');
    const entry = parsed.kind === 'index' ? parsed.index.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === architecture) : undefined;
    if (!entry) throw new ActionFailedError(`${repository}:${buildId} has no ${platform} image: the index points at the wrong manifests`);
    const image = await registry.getManifest(repository, entry.digest);
    const manifest = image && parseManifest(image, entry.digest);
    if (manifest?.kind !== 'image') throw new ActionFailedError(`${repository}@${entry.digest} is not an image manifest`);
    const config = JSON.parse((await registry.getBlob(repository, manifest.manifest.config.digest)).toString('utf8')) as {
      architecture?: string;
      config?: { Labels?: Record<string, string> };
    };
    if (config.architecture !== architecture)
      throw new ActionFailedError(`${repository}@${entry.digest} is a ${config.architecture} image where ${platform} was expected`);
    if (!config.config?.Labels?.['devcontainer.metadata']) throw new ActionFailedError(`${repository}@${entry.digest} has no devcontainer.metadata label`);
    const failed = failure(repository);
    if (failed !== undefined)
      throw new ActionFailedError(`Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, Message: ${failed}`);
    return `${platform}: platform and label checks passed on ${repository}@${entry.digest}`;
  };
}

/** The `@devcontainers/cli` of this workspace, which the buildspecs' `devcontainer` runs. */
const WORKSPACE_BIN = join(__dirname, '..', '..', '..', 'node_modules', '.bin');
const AWS_CLI = join(__dirname, 'aws-cli.cjs');
/** Where npm's tarball of the pinned devcontainer CLI is kept between runs (fetched once from the npm registry). */
const NPM_TARBALLS = join(__dirname, '..', '..', '..', 'node_modules', '.cache', 'dcf-npm-tarballs');
/** Most time one buildspec run may take here, whatever the project's time-out says. */
export const BUILDSPEC_RUN_LIMIT_MS = 180_000;

function workspaceCliVersion(): string {
  const file = join(__dirname, '..', '..', '..', 'node_modules', '@devcontainers', 'cli', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The buildspec of a project as the template holds it (CDK writes JSON). */
function parseBuildSpec(project: RehearsalProject): BuildSpecObject {
  try {
    return JSON.parse(project.buildSpec) as BuildSpecObject;
  } catch {
    throw new ActionFailedError(`the buildspec of ${project.name} is not JSON; the rehearsal runs the buildspecs CDK writes inline`);
  }
}

/**
 * A project whose buildspec can run here for real (the feature projects: the feature
 * tool, the devcontainer CLI's `features package` and `features publish`), run with
 * `runBuildSpec`: the source artifact extracted as `CODEBUILD_SRC_DIR`, the project's and
 * the action's variables, the project role's credentials. What stands in for CodeBuild's
 * image: `aws` ({@link AWS_CLI}, through the gateway as the project role), `npm pack
 * @devcontainers/cli@V` (npm's real tarball of V, so that the buildspec's own SHA-512 check
 * runs on it; fetched once from the npm registry into the workspace's cache), `npm install
 * --global <that tarball>` (this workspace's CLI, which must be version V), and `docker`
 * only for `login`. `REGISTRY` names the gateway's OCI endpoint, as the
 * account's registry host would resolve to it.
 */
export function buildSpecWork(gatewayHost: string): CodeBuildWork {
  return async (run) => {
    const spec = parseBuildSpec(run.project);
    // The devcontainer CLI speaks plain HTTP to `localhost` only.
    const registryHost = gatewayHost.replace(/^127\.0\.0\.1:/, 'localhost:');
    const dir = mkdtempSync(join(tmpdir(), 'dcf-rehearsal-build-'));
    try {
      const src = join(dir, 'src');
      const content = readZip(run.source);
      for (const [path, bytes] of content.files) {
        mkdirSync(dirname(join(src, path)), { recursive: true });
        writeFileSync(join(src, path), bytes, { mode: content.executables.has(path) ? 0o755 : 0o644 });
      }
      mkdirSync(src, { recursive: true });
      const version = workspaceCliVersion();
      if (version !== PINNED_DEVCONTAINER_CLI.version) {
        throw new ActionFailedError(
          `this workspace's @devcontainers/cli is ${version}, core pins ${PINNED_DEVCONTAINER_CLI.version}: the rehearsal runs the pinned one (pnpm install)`,
        );
      }
      const tarball = await pinnedNpmTarball(PINNED_DEVCONTAINER_CLI, NPM_TARBALLS);
      const tgz = npmPackFileName(PINNED_DEVCONTAINER_CLI);
      const work = join(dir, 'work');
      const result = await runBuildSpec(spec, {
        sourceDir: src,
        projectName: run.project.name,
        region: run.aws.environment.AWS_REGION,
        timeoutMs: Math.min(run.project.timeoutMinutes * 60_000, BUILDSPEC_RUN_LIMIT_MS),
        path: [WORKSPACE_BIN],
        env: { ...run.environment, ...run.aws.environment, REGISTRY: registryHost, WORK: work, FEATURE_TOOL: join(work, 'feature-tool.js') },
        shims: {
          aws: `exec node ${JSON.stringify(AWS_CLI)} "$@"`,
          npm: [
            `case "$1 \${@: -1}" in`,
            // npm pack --silent --pack-destination <dir> @devcontainers/cli@V: the registry's tarball, which the buildspec checks.
            `  "pack @devcontainers/cli@${version}") cp ${JSON.stringify(tarball)} "$4/${tgz}" && echo ${tgz} ;;`,
            // npm install --global … <dir>/<tarball>: the checked tarball is this workspace's CLI.
            `  "install "*/${tgz}) echo "using this workspace's @devcontainers/cli ${version}" ;;`,
            `  *) echo "the rehearsal runs this workspace's @devcontainers/cli ${version}; the buildspec asks for: npm $*" >&2; exit 1 ;;`,
            `esac`,
          ].join('\n'),
          docker: { recordStdin: true, script: `[ "$1" = login ] && exit 0; echo "the rehearsal has no Docker daemon: docker $*" >&2; exit 1` },
        },
      });
      const calls = result.callLines.length;
      if (!result.succeeded) {
        const f = result.failed!;
        throw new ActionFailedError(`${run.project.name}: phase ${f.phase} failed at '${f.failedCommand}' (exit ${f.exitCode})\n${result.stderr.slice(-1500)}`);
      }
      return `${result.phases.map((p) => p.phase).join(', ')} succeeded (${calls} tool calls); ${
        result.stdout
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('[Container]'))
          .slice(-1)[0] ?? ''
      }`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** The work of a project, by what its buildspec does. */
export function workOf(
  project: RehearsalProject,
  gatewayHost: string,
  accountRegistryHost: string,
  now: () => Date,
  testFailure?: (repository: string) => string | undefined,
): CodeBuildWork {
  if (project.buildSpec.includes('devcontainer build')) return imageBuildWork(gatewayHost, accountRegistryHost, now);
  if (project.buildSpec.includes('Check platform')) return imageTestWork(gatewayHost, testFailure);
  if (project.buildSpec.includes('FEATURE_TOOL')) return buildSpecWork(gatewayHost);
  return async () => {
    throw new ActionFailedError(`the rehearsal does not model what project ${project.name} does yet`);
  };
}
