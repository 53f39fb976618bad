/**
 * Runs a buildspec's commands for real, in bash on this machine, the way CodeBuild
 * runs a version 0.2 buildspec, with shims for the tools that cannot run here (the
 * AWS CLI, Docker, the devcontainer CLI…): each shim records the arguments it was
 * called with and then does what its script says (print a token, fail, …).
 *
 * What it models of CodeBuild (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html):
 * - every command of every phase runs in one bash instance, in `$CODEBUILD_SRC_DIR`, so
 *   variables and the working folder carry over from one command to the next;
 * - a command is one entry of `commands` (a multi-line entry is one command, whose exit
 *   status is that of its last statement, as in CodeBuild);
 * - the first command that exits non-zero fails its phase: the phase's other commands do
 *   not run; after a failed `install` or `pre_build`, no later phase runs; `post_build`
 *   runs after a failed `build`, with `CODEBUILD_BUILD_SUCCEEDING=0`;
 * - `env.variables` and CodeBuild's own variables (`CODEBUILD_SRC_DIR`, `CODEBUILD_BUILD_ID`, …);
 * - secondary sources (a pipeline action's further input artifacts), each extracted in a
 *   folder of its own named by `CODEBUILD_SRC_DIR_<source identifier>` (for CodePipeline,
 *   the identifier is the artifact's name).
 * What it does not: `runtime-versions` (the tools on `PATH` are used), `on-failure`,
 * `finally`, artifacts, reports, `env.parameter-store`/`secrets-manager`, and commands that
 * set their own `EXIT` trap.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD_SPEC_PHASES, type BuildSpecObject, type BuildSpecPhaseName } from './buildspec';

/** A tool replaced on `PATH`. */
export interface BuildSpecShim {
  /**
   * Bash run after the call is recorded, with the call's arguments as `"$@"`: what the
   * tool would print or how it would fail.
   * @default - nothing: the call succeeds and prints nothing
   */
  readonly script?: string;
  /**
   * Record what the call reads from its standard input (e.g. a password piped to
   * `docker login --password-stdin`); `script` can still read it.
   * @default false
   */
  readonly recordStdin?: boolean;
}

export interface RunBuildSpecProps {
  /** The extracted source artifact: `CODEBUILD_SRC_DIR` and the working folder. */
  readonly sourceDir: string;
  /**
   * The extracted secondary sources, by source identifier (a CodePipeline action's extra
   * input artifacts, by artifact name): each folder is `CODEBUILD_SRC_DIR_<identifier>`.
   * @default - none
   */
  readonly secondarySourceDirs?: Readonly<Record<string, string>>;
  /**
   * Tools to replace, by command name: a bash script (see {@link BuildSpecShim.script}) or a shim.
   * @default - none
   */
  readonly shims?: Readonly<Record<string, string | BuildSpecShim>>;
  /**
   * Folders on `PATH` after the shims and before this process's `PATH` (e.g. `node_modules/.bin`).
   * @default - none
   */
  readonly path?: readonly string[];
  /**
   * Variables set for this run on top of `env.variables`, as a pipeline action does (`BUILD_ID`).
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The CodeBuild project's name, in `CODEBUILD_BUILD_ID` (`<project>:<uuid>`).
   * @default 'project'
   */
  readonly projectName?: string;
  /**
   * `AWS_REGION` and `AWS_DEFAULT_REGION`.
   * @default 'us-east-1'
   */
  readonly region?: string;
  /**
   * Longest run, in milliseconds, before the run is stopped and fails.
   * @default 120000
   */
  readonly timeoutMs?: number;
}

/** One call of a shim. */
export interface ShimCall {
  /** The command name, e.g. `docker`. */
  readonly command: string;
  readonly args: readonly string[];
  /** What the call read from stdin, when its shim records it. */
  readonly stdin?: string;
}

/** How one phase ended. */
export interface PhaseResult {
  readonly phase: BuildSpecPhaseName;
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** The command that failed the phase. */
  readonly failedCommand?: string;
  /** Its exit status. */
  readonly exitCode?: number;
}

/** What a run did. */
export interface BuildSpecRun {
  /** True when every phase that ran succeeded. */
  readonly succeeded: boolean;
  /** The phases that ran, in order; a phase that did not run is absent. */
  readonly phases: readonly PhaseResult[];
  /** The first phase that failed. */
  readonly failed?: PhaseResult;
  /** Every shim call, in the order they started. */
  readonly calls: readonly ShimCall[];
  /** Each call as one line, `docker pull --platform linux/amd64 …`, for readable assertions. */
  readonly callLines: readonly string[];
  /** The build log (what CodeBuild sends to CloudWatch Logs), with its `[Container]` lines. */
  readonly stdout: string;
  readonly stderr: string;
  /** The run's `CODEBUILD_BUILD_ID`. */
  readonly codebuildBuildId: string;
}

/** Runs the phases of `spec` in bash with shims on `PATH`; never throws for a failing command (see {@link BuildSpecRun.failed}). */
export async function runBuildSpec(spec: BuildSpecObject, props: RunBuildSpecProps): Promise<BuildSpecRun> {
  const work = await mkdtemp(join(tmpdir(), 'dcf-buildspec-run-'));
  try {
    const shimDir = join(work, 'shims');
    const callDir = join(work, 'calls');
    const home = join(work, 'home');
    await Promise.all([mkdir(shimDir), mkdir(callDir), mkdir(home)]);
    for (const [name, shim] of Object.entries(props.shims ?? {})) {
      if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`shim name '${name}' is not a command name`);
      await writeFile(join(shimDir, name), shimScript(callDir, typeof shim === 'string' ? { script: shim } : shim));
      await chmod(join(shimDir, name), 0o755);
    }
    const statusFile = join(work, 'status');
    const script = await writeRunScript(spec, work, statusFile);

    const secondary: Record<string, string> = {};
    for (const [identifier, dir] of Object.entries(props.secondarySourceDirs ?? {})) {
      // CodeBuild's rule for a source identifier: letters, digits and underscores, fewer than 128.
      if (!/^[A-Za-z0-9_]{1,127}$/.test(identifier))
        throw new Error(`secondary source identifier '${identifier}' is not one CodeBuild accepts: use letters, digits and underscores`);
      secondary[`CODEBUILD_SRC_DIR_${identifier}`] = dir;
    }
    const projectName = props.projectName ?? 'project';
    const region = props.region ?? 'us-east-1';
    const codebuildBuildId = `${projectName}:${randomUUID()}`;
    const env: Record<string, string> = {
      PATH: [shimDir, ...(props.path ?? []), process.env.PATH ?? '/usr/bin:/bin'].join(':'),
      HOME: home,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      CODEBUILD_CI: 'true',
      CODEBUILD_SRC_DIR: props.sourceDir,
      ...secondary,
      CODEBUILD_BUILD_ID: codebuildBuildId,
      CODEBUILD_BUILD_ARN: `arn:aws:codebuild:${region}:123456789012:build/${codebuildBuildId}`,
      CODEBUILD_BUILD_NUMBER: '1',
      CODEBUILD_BUILD_SUCCEEDING: '1',
      CODEBUILD_BUILD_IMAGE: 'aws/codebuild/amazonlinux-x86_64-standard:5.0',
      CODEBUILD_INITIATOR: `codepipeline/${projectName}`,
      CODEBUILD_START_TIME: String(Date.now()),
      ...spec.env.variables,
      ...props.env,
    };
    const { stdout, stderr } = await bash(script, { cwd: props.sourceDir, env, timeoutMs: props.timeoutMs ?? 120_000 });
    const phases = parseStatus(spec, await readFile(statusFile, 'utf8').catch(() => ''));
    const calls = await readCalls(callDir);
    const failed = phases.find((p) => p.status === 'FAILED');
    return {
      succeeded: failed === undefined && phases.length > 0,
      phases,
      ...(failed ? { failed } : {}),
      calls,
      callLines: calls.map((c) => [c.command, ...c.args].join(' ')),
      stdout,
      stderr,
      codebuildBuildId,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A shim: records `argv` NUL-separated in a file of its own (named by start time, so calls sort), then runs the script. */
function shimScript(callDir: string, shim: BuildSpecShim): string {
  return [
    '#!/usr/bin/env bash',
    `__shim_call=${quote(callDir)}/"\${EPOCHREALTIME/[.,]/}-$$"`,
    `printf '%s\\0' "\${0##*/}" "$@" > "$__shim_call.args"`,
    ...(shim.recordStdin ? ['cat > "$__shim_call.stdin"', 'exec < "$__shim_call.stdin"'] : []),
    'unset __shim_call',
    shim.script ?? 'exit 0',
    '',
  ].join('\n');
}

/** One bash script that sources each command's file in turn and writes each phase's outcome to `statusFile`. */
async function writeRunScript(spec: BuildSpecObject, work: string, statusFile: string): Promise<string> {
  const status = quote(statusFile);
  const lines = [
    '__dcf_stop=""',
    '__dcf_current=""',
    // A command that runs `exit` ends the shell, as it ends the build in CodeBuild.
    `trap '__dcf_rc=$?; if [ -n "$__dcf_current" ]; then echo "$__dcf_current $__dcf_rc" >> ${status}; fi' EXIT`,
  ];
  for (const phase of BUILD_SPEC_PHASES) {
    const p = spec.phases[phase];
    if (!p) continue;
    const upper = phase.toUpperCase();
    // post_build runs after build whether or not build succeeded, never after a failed install or pre_build.
    lines.push(phase === 'post_build' ? 'if [ "$__dcf_stop" != before-build ]; then' : 'if [ -z "$__dcf_stop" ]; then');
    lines.push(`echo "${phase} STARTED" >> ${status}`, `echo "[Container] Entering phase ${upper}"`, '__dcf_fail=""');
    for (const [name, version] of Object.entries(p['runtime-versions'] ?? {})) {
      lines.push(`echo ${quote(`[Container] runtime-versions ${name} ${version}: the harness uses the ${name} on PATH`)}`);
    }
    for (const [i, command] of p.commands.entries()) {
      const file = join(work, `${phase}-${i}.sh`);
      await writeFile(file, `${command}\n`);
      lines.push(
        'if [ -z "$__dcf_fail" ]; then',
        `echo ${quote(`[Container] Running command ${command}`)}`,
        `__dcf_current="${phase} FAILED ${i}"`,
        `. ${quote(file)}`,
        '__dcf_rc=$?',
        '__dcf_current=""',
        `if [ $__dcf_rc -ne 0 ]; then __dcf_fail="${i} $__dcf_rc"; echo "[Container] Command did not exit successfully ${command.split('\n')[0].replace(/["$`\\]/g, '\\$&')} exit status $__dcf_rc"; fi`,
        'fi',
      );
    }
    lines.push(
      `if [ -z "$__dcf_fail" ]; then echo "${phase} SUCCEEDED" >> ${status}; echo "[Container] Phase complete: ${upper} State: SUCCEEDED"; else`,
      `  echo "${phase} FAILED $__dcf_fail" >> ${status}; echo "[Container] Phase complete: ${upper} State: FAILED"; CODEBUILD_BUILD_SUCCEEDING=0`,
      `  ${phase === 'install' || phase === 'pre_build' ? '__dcf_stop=before-build' : '__dcf_stop=after-build'}`,
      'fi',
      'fi',
    );
  }
  lines.push('__dcf_current=""', 'exit 0', '');
  const script = join(work, 'run.sh');
  await writeFile(script, lines.join('\n'));
  return script;
}

/** Each phase that started, with how it ended; one that started and never ended (the run was stopped) failed. */
function parseStatus(spec: BuildSpecObject, text: string): PhaseResult[] {
  const results = new Map<BuildSpecPhaseName, PhaseResult>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [phase, status, index, code] = line.split(' ') as [BuildSpecPhaseName, 'STARTED' | 'SUCCEEDED' | 'FAILED', string?, string?];
    if (status === 'STARTED') results.set(phase, { phase, status: 'FAILED' });
    else if (status === 'SUCCEEDED') results.set(phase, { phase, status });
    // A command that ran `exit 0` ended the shell before its phase was done: it failed too.
    else results.set(phase, { phase, status, failedCommand: spec.phases[phase]!.commands[Number(index)], exitCode: Number(code) });
  }
  return [...results.values()];
}

async function readCalls(callDir: string): Promise<ShimCall[]> {
  const names = (await readdir(callDir)).filter((n) => n.endsWith('.args')).sort();
  return Promise.all(
    names.map(async (name) => {
      const [command, ...args] = (await readFile(join(callDir, name), 'utf8')).split('\0').slice(0, -1);
      const stdin = await readFile(join(callDir, name.replace(/\.args$/, '.stdin')), 'utf8').catch(() => undefined);
      return { command, args, ...(stdin !== undefined ? { stdin } : {}) };
    }),
  );
}

/** Runs the script in a process group of its own, so that a timeout stops what its commands started too. */
function bash(script: string, o: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, o.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr: timedOut ? `${stderr}\n[harness] stopped by SIGKILL after ${o.timeoutMs} ms` : stderr });
    });
  });
}

/** A single-quoted bash word. */
function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
