import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_CHECKS } from '@devcontainer-factory/core';
import { type BuildSpecObject, type BuildSpecRun, runBuildSpec } from '@devcontainer-factory/pipeline-parts';
import { type ImageSpecOptions, imageBuildSpecObject, imageTestSpecObject } from '../src/private/buildspecs';

// The Build and Test buildspecs run for real: every phase in bash, as CodeBuild runs
// them (runBuildSpec of pipeline-parts: one shell, the first failing command fails its
// phase). Docker, the AWS CLI, npm and the devcontainer CLI need a daemon or AWS, so
// they are shims that record their arguments and answer as the real tools would, from
// FAKE_* variables each test sets. bash, sed, node and mktemp are real.

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const BUILD_ID = '0123456789abcdef';
const IMAGE = `${REGISTRY}/team/builds/python:${BUILD_ID}`;
const OPTIONS: ImageSpecOptions = { platform: 'linux/amd64', registryHost: REGISTRY, repository: 'team/builds/python', namespace: 'team', devcontainerCliVersion: '0.89.0' };
const BUILDKIT = `${REGISTRY}/team/ecr-public/vend/moby/buildkit:buildx-stable-1`;

const SHIMS = {
  npm: '',
  aws: ['case "$1 $2" in', '  "ecr get-login-password") echo fake-ecr-token;;', '  "ecr describe-images") exit "${FAKE_CACHE_EXIT:-254}";;', 'esac'].join('\n'),
  docker: {
    recordStdin: true,
    script: [
      'case "$1 $2" in',
      '  "pull --platform") exit "${FAKE_PULL_EXIT:-0}";;',
      // docker image inspect --format <template> <image>
      '  "image inspect") case "$4" in',
      "    '{{.Os}}/{{.Architecture}}') echo \"${FAKE_OS_ARCH:-linux/amd64}\";;",
      "    *Labels*) printf '%s\\n' \"${FAKE_LABEL-<no value>}\";;",
      '  esac;;',
      '  "run --rm") echo "${FAKE_MACHINE:-x86_64}";;',
      'esac',
    ].join('\n'),
  },
  devcontainer: [
    'case "$1" in',
    '  --version) echo 0.89.0;;',
    '  build) exit "${FAKE_BUILD_EXIT:-0}";;',
    // Prints the override configuration, so that a test can read what the image was started from.
    '  up) while [ $# -gt 0 ]; do if [ "$1" = --override-config ]; then cat "$2"; fi; shift; done; exit "${FAKE_UP_EXIT:-0}";;',
    '  exec) exit "${FAKE_EXEC_EXIT:-0}";;',
    'esac',
  ].join('\n'),
};

const LABEL = JSON.stringify([{ id: 'ghcr.io/devcontainers/features/common-utils:2' }, { remoteUser: 'vscode' }]);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dcf-image-buildspec-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** An extracted configuration, as CodeBuild unpacks the source artifact. */
async function source(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(work, 'src-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const CONFIG = { '.devcontainer/devcontainer.json': '{ "image": "${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/base:latest" }' };
const TESTED = { ...CONFIG, 'test-project/test.sh': '#!/bin/sh\necho ok\n' };

function run(spec: BuildSpecObject, src: string, env: Record<string, string> = {}): Promise<BuildSpecRun> {
  return runBuildSpec(spec, { sourceDir: src, shims: SHIMS, env: { BUILD_ID, FAKE_LABEL: LABEL, ...env }, projectName: 'PythonTestAmd64' });
}

const argsOf = (r: BuildSpecRun, command: string, sub?: string) => r.calls.filter((c) => c.command === command && (sub === undefined || c.args[0] === sub)).map((c) => c.args);

describe('the Build buildspec', () => {
  const build = (o: Partial<ImageSpecOptions> = {}) => imageBuildSpecObject({ ...OPTIONS, ...o, buildkitImage: BUILDKIT });
  const cacheRef = (arch: string) => `type=registry,ref=${REGISTRY}/team/builds/python:buildcache-${arch}`;

  test('installs the pinned CLI, logs in, creates the builder, writes the factory variables and pushes <build>-<arch> to staging', async () => {
    // GIVEN
    const src = await source(CONFIG);

    // WHEN
    const r = await run(build(), src);

    // THEN
    expect(r.phases.map((p) => `${p.phase} ${p.status}`)).toEqual(['install SUCCEEDED', 'pre_build SUCCEEDED', 'build SUCCEEDED']);
    expect(argsOf(r, 'npm')).toEqual([['install', '--global', '--no-fund', '--no-audit', '@devcontainers/cli@0.89.0']]);
    expect(r.calls.find((c) => c.command === 'docker' && c.args[0] === 'login')).toEqual({ command: 'docker', args: ['login', '--username', 'AWS', '--password-stdin', REGISTRY], stdin: 'fake-ecr-token\n' });
    expect(argsOf(r, 'docker', 'buildx')).toEqual([['buildx', 'create', '--name', 'devcontainer-factory', '--driver', 'docker-container', '--driver-opt', `image=${BUILDKIT}`, '--bootstrap', '--use']]);
    expect(argsOf(r, 'aws', 'ecr').filter((a) => a[1] === 'describe-images')).toEqual([['ecr', 'describe-images', '--repository-name', 'team/builds/python', '--image-ids', 'imageTag=buildcache-amd64']]);
    expect(argsOf(r, 'devcontainer', 'build')).toEqual([
      ['build', '--workspace-folder', src, '--platform', 'linux/amd64', '--push', '--image-name', `${IMAGE}-amd64`, '--cache-to', `${cacheRef('amd64')},mode=max,image-manifest=true,oci-mediatypes=true`],
    ]);
    expect(r.stdout).toContain(`No registry cache at ${REGISTRY}/team/builds/python:buildcache-amd64 yet`);
    expect(await readFile(join(src, '.devcontainer/devcontainer.json'), 'utf8')).toBe(`{ "image": "${REGISTRY}/team/images/base:latest" }`);
  });

  test('reads the registry cache when it exists, on arm64 with the arm64 tags', async () => {
    // WHEN
    const r = await run(build({ platform: 'linux/arm64' }), await source(CONFIG), { FAKE_CACHE_EXIT: '0' });

    // THEN
    expect(r.succeeded).toBe(true);
    const [args] = argsOf(r, 'devcontainer', 'build');
    expect(args.slice(3, 8)).toEqual(['--platform', 'linux/arm64', '--push', '--image-name', `${IMAGE}-arm64`]);
    expect(args.slice(8)).toEqual(['--cache-from', cacheRef('arm64'), '--cache-to', `${cacheRef('arm64')},mode=max,image-manifest=true,oci-mediatypes=true`]);
  });

  test('without a build id from the pipeline, pre_build fails before the login and nothing is built', async () => {
    // WHEN
    const r = await run(build(), await source(CONFIG), { BUILD_ID: '' });

    // THEN
    expect(r.failed).toMatchObject({ phase: 'pre_build', exitCode: 1 });
    expect(r.phases.map((p) => p.phase)).toEqual(['install', 'pre_build']);
    expect(r.stderr).toContain("BUILD_ID must be the 16 hex digits of #{Prepare.BuildId}, got ''");
    expect(argsOf(r, 'docker', 'login')).toEqual([]);
    expect(argsOf(r, 'devcontainer', 'build')).toEqual([]);
  });

  test('a failing devcontainer build fails the build phase', async () => {
    // WHEN
    const r = await run(build(), await source(CONFIG), { FAKE_BUILD_EXIT: '1' });

    // THEN
    expect(r.succeeded).toBe(false);
    expect(r.failed).toMatchObject({ phase: 'build', exitCode: 1 });
    expect(r.failed!.failedCommand).toContain('devcontainer build');
  });
});

describe('the Test buildspec', () => {
  const testSpec = imageTestSpecObject(OPTIONS);

  test('pulls <build> for its platform and runs every check of IMAGE_CHECKS in order; without test-project/test.sh it says so', async () => {
    // WHEN
    const r = await run(testSpec, await source(CONFIG));

    // THEN
    expect(r.succeeded).toBe(true);
    expect(argsOf(r, 'docker').filter((a) => a[0] !== 'login')).toEqual([
      ['pull', '--platform', 'linux/amd64', IMAGE],
      ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', IMAGE],
      ['run', '--rm', '--platform', 'linux/amd64', '--entrypoint', 'uname', IMAGE, '-m'],
      ['image', 'inspect', '--format', '{{ index .Config.Labels "devcontainer.metadata" }}', IMAGE],
    ]);
    const announced = IMAGE_CHECKS.map((c) => r.stdout.indexOf(`Check ${c.id}: ${c.title}`));
    expect(announced.every((at) => at >= 0)).toBe(true);
    expect([...announced].sort((a, b) => a - b)).toEqual(announced);
    expect(r.stdout).toContain('No test-project/test.sh in the configuration: the platform, run and label checks passed');
    expect(argsOf(r, 'devcontainer').filter((a) => a[0] !== '--version')).toEqual([]);
  });

  test('with test-project/test.sh, starts the image as a dev container and runs the script in test-project', async () => {
    // GIVEN
    const src = await source(TESTED);

    // WHEN
    const r = await run(testSpec, src);

    // THEN
    expect(r.succeeded).toBe(true);
    const [up, exec] = argsOf(r, 'devcontainer').filter((a) => a[0] !== '--version');
    const testArgs = ['--workspace-folder', src, '--override-config', up[4], '--id-label', `devcontainer-factory.test=${r.codebuildBuildId}`];
    expect(up).toEqual(['up', ...testArgs]);
    expect(exec).toEqual(['exec', ...testArgs, '/bin/sh', '-c', 'cd test-project && ./test.sh']);
    expect(r.stdout).toContain(`{"image": "${IMAGE}"}`);
    // The upload's script was not executable (written 0644 here, as a zip from Windows unpacks): the buildspec makes it so.
    expect((await stat(join(src, 'test-project/test.sh'))).mode & 0o100).toBe(0o100);
  });

  test.each([
    ['the index points at another platform', { FAKE_OS_ARCH: 'linux/arm64' }, `${IMAGE} is a linux/arm64 image where linux/amd64 was expected`, 'platform'],
    ['the image reports another machine', { FAKE_MACHINE: 'aarch64' }, `${IMAGE} runs as aarch64, expected x86_64`, 'runs'],
    ['the image has no metadata label', { FAKE_LABEL: '<no value>' }, `${IMAGE} has no devcontainer.metadata label: it was not built by the devcontainer CLI`, 'metadata-label'],
    ['the metadata label is not JSON', { FAKE_LABEL: '[{oops' }, `the devcontainer.metadata label of ${IMAGE} is not a JSON array`, 'metadata-label'],
    ['the metadata label is JSON but no array', { FAKE_LABEL: '{}' }, `the devcontainer.metadata label of ${IMAGE} is not a JSON array`, 'metadata-label'],
    ['devcontainer up fails', { FAKE_UP_EXIT: '1' }, `devcontainer up could not start ${IMAGE} as a dev container`, 'test-script'],
    ['test.sh fails', { FAKE_EXEC_EXIT: '3' }, `test-project/test.sh failed in ${IMAGE}`, 'test-script'],
  ])('fails the build phase when %s, and runs no later check', async (_name, env, message, check) => {
    // WHEN
    const r = await run(testSpec, await source(TESTED), env);

    // THEN
    expect(r.failed).toMatchObject({ phase: 'build', exitCode: 1 });
    expect(r.stderr).toContain(message);
    const later = IMAGE_CHECKS.slice(IMAGE_CHECKS.findIndex((c) => c.id === check) + 1);
    for (const c of later) expect(r.stdout).not.toContain(`Check ${c.id}:`);
    if (check !== 'test-script') expect(argsOf(r, 'devcontainer', 'up')).toEqual([]);
    if ('FAKE_UP_EXIT' in env) expect(argsOf(r, 'devcontainer', 'exec')).toEqual([]);
  });

  test('a pull that fails fails pre_build: no check runs', async () => {
    // WHEN
    const r = await run(testSpec, await source(TESTED), { FAKE_PULL_EXIT: '1' });

    // THEN
    expect(r.failed).toEqual({ phase: 'pre_build', status: 'FAILED', failedCommand: 'docker pull --platform "$PLATFORM" "$IMAGE"', exitCode: 1 });
    expect(r.stdout).not.toContain('Check platform');
  });
});
