import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildSpecObject, runBuildSpec } from '../src';

// The runner models how CodeBuild runs a version 0.2 buildspec; these pin that model.

let src: string;
beforeEach(async () => {
  src = await mkdtemp(join(tmpdir(), 'dcf-runner-'));
});
afterEach(() => rm(src, { recursive: true, force: true }));

const spec = (
  phases: Partial<Record<'install' | 'pre_build' | 'build' | 'post_build', string[]>>,
  variables: Record<string, string> = {},
): BuildSpecObject => ({
  version: '0.2',
  env: { shell: 'bash', variables },
  phases: {
    install: { commands: phases.install ?? [] },
    pre_build: { commands: phases.pre_build ?? [] },
    build: { commands: phases.build ?? [] },
    ...(phases.post_build ? { post_build: { commands: phases.post_build } } : {}),
  },
});

test("runs every phase in one shell in CODEBUILD_SRC_DIR, with env.variables, CodeBuild variables and the run's own", async () => {
  // GIVEN
  await writeFile(join(src, 'input.txt'), 'from the source');

  // WHEN
  const run = await runBuildSpec(
    spec(
      {
        install: ['SET_IN_INSTALL=yes', 'cd sub 2>/dev/null || mkdir sub'],
        pre_build: ['echo "$SET_IN_INSTALL $FIXED $PER_RUN"'],
        build: ['cat input.txt', 'echo "src=$CODEBUILD_SRC_DIR pwd=$PWD id=$CODEBUILD_BUILD_ID"'],
      },
      { FIXED: 'fixed' },
    ),
    {
      sourceDir: src,
      env: { PER_RUN: 'per-run' },
      projectName: 'Python-Test',
    },
  );

  // THEN
  expect(run.succeeded).toBe(true);
  expect(run.phases.map((p) => `${p.phase} ${p.status}`)).toEqual(['install SUCCEEDED', 'pre_build SUCCEEDED', 'build SUCCEEDED']);
  expect(run.stdout).toContain('yes fixed per-run');
  expect(run.stdout).toContain('from the source');
  expect(run.stdout).toContain(`src=${src} pwd=${src} id=${run.codebuildBuildId}`);
  expect(run.codebuildBuildId).toMatch(/^Python-Test:[0-9a-f-]{36}$/);
});

test('each secondary source is CODEBUILD_SRC_DIR_<identifier>, beside the primary source the build starts in; an identifier CodeBuild refuses is refused', async () => {
  // GIVEN a pipeline action's extra input artifact, extracted in a folder of its own
  const inputs = await mkdtemp(join(tmpdir(), 'dcf-runner-inputs-'));
  await writeFile(join(inputs, 'inputs.json'), '{"from": "the Inputs artifact"}');

  // WHEN
  const run = await runBuildSpec(spec({ build: ['cat "$CODEBUILD_SRC_DIR_Inputs/inputs.json"', 'echo "pwd=$PWD"'] }), {
    sourceDir: src,
    secondarySourceDirs: { Inputs: inputs },
  });

  // THEN
  expect(run.succeeded).toBe(true);
  expect(run.stdout).toContain('{"from": "the Inputs artifact"}');
  expect(run.stdout).toContain(`pwd=${src}`);
  await expect(runBuildSpec(spec({ build: ['true'] }), { sourceDir: src, secondarySourceDirs: { 'In-puts': inputs } })).rejects.toThrow(
    /secondary source identifier 'In-puts' is not one CodeBuild accepts/,
  );
  await rm(inputs, { recursive: true, force: true });
});

test('shims record their arguments (spaces, quotes, newlines kept) and stdin, in call order, and emulate output', async () => {
  // WHEN
  const run = await runBuildSpec(
    spec({
      build: [
        'TOKEN="$(aws ecr get-login-password)"',
        'printf %s "$TOKEN" | docker login --username AWS --password-stdin host',
        'docker tag "a b" "it\'s"$\'\\n\'x',
      ],
    }),
    {
      sourceDir: src,
      shims: { aws: 'echo secret-token', docker: { recordStdin: true, script: 'cat > /dev/null' } },
    },
  );

  // THEN
  expect(run.succeeded).toBe(true);
  expect(run.calls).toEqual([
    { command: 'aws', args: ['ecr', 'get-login-password'] },
    { command: 'docker', args: ['login', '--username', 'AWS', '--password-stdin', 'host'], stdin: 'secret-token' },
    { command: 'docker', args: ['tag', 'a b', "it's\nx"], stdin: '' },
  ]);
  expect(run.callLines[0]).toBe('aws ecr get-login-password');
});

test('the first failing command fails its phase: the rest of the phase and the later phases do not run', async () => {
  // WHEN
  const run = await runBuildSpec(spec({ install: ['tool one'], pre_build: ['tool two', 'echo never'], build: ['tool three'] }), {
    sourceDir: src,
    shims: { tool: '[ "$1" = two ] && exit 3; exit 0' },
  });

  // THEN
  expect(run.succeeded).toBe(false);
  expect(run.failed).toEqual({ phase: 'pre_build', status: 'FAILED', failedCommand: 'tool two', exitCode: 3 });
  expect(run.phases.map((p) => p.phase)).toEqual(['install', 'pre_build']);
  expect(run.callLines).toEqual(['tool one', 'tool two']);
  expect(run.stdout).not.toContain('never');
  expect(run.stdout).toContain('[Container] Command did not exit successfully tool two exit status 3');
});

test('a multi-line command fails only by its last statement, as in CodeBuild (no set -e)', async () => {
  // WHEN
  const run = await runBuildSpec(spec({ build: ['false\necho "went on"', 'true\nfalse'] }), { sourceDir: src });

  // THEN
  expect(run.stdout).toContain('went on');
  expect(run.failed).toMatchObject({ phase: 'build', failedCommand: 'true\nfalse', exitCode: 1 });
});

test('exit in a command ends the run and fails its phase', async () => {
  // WHEN
  const run = await runBuildSpec(spec({ pre_build: ['echo before; exit 4', 'echo after'], build: ['echo build'] }), { sourceDir: src });

  // THEN
  expect(run.failed).toEqual({ phase: 'pre_build', status: 'FAILED', failedCommand: 'echo before; exit 4', exitCode: 4 });
  expect(run.stdout).not.toContain('after');
  expect(run.phases.map((p) => p.phase)).toEqual(['install', 'pre_build']);
});

test('post_build runs after a failed build with CODEBUILD_BUILD_SUCCEEDING=0, and not after a failed pre_build', async () => {
  // WHEN
  const afterBuild = await runBuildSpec(spec({ build: ['false'], post_build: ['echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"'] }), { sourceDir: src });
  const afterPreBuild = await runBuildSpec(spec({ pre_build: ['false'], post_build: ['echo post'] }), { sourceDir: src });

  // THEN
  expect(afterBuild.phases.map((p) => `${p.phase} ${p.status}`)).toEqual(['install SUCCEEDED', 'pre_build SUCCEEDED', 'build FAILED', 'post_build SUCCEEDED']);
  expect(afterBuild.stdout).toContain('succeeding=0');
  expect(afterBuild.succeeded).toBe(false);
  expect(afterPreBuild.phases.map((p) => p.phase)).toEqual(['install', 'pre_build']);
  expect(afterPreBuild.stdout).not.toContain('echo post\npost');
});

test('a run stopped by its timeout fails the phase it was in', async () => {
  // WHEN
  const run = await runBuildSpec(spec({ build: ['sleep 5'] }), { sourceDir: src, timeoutMs: 300 });

  // THEN
  expect(run.succeeded).toBe(false);
  expect(run.failed).toEqual({ phase: 'build', status: 'FAILED' });
  expect(run.stderr).toContain('stopped by SIGKILL');
});
