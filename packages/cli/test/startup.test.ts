/**
 * `dcf --version` and `dcf --help` start fast: they load no AWS SDK, which the
 * commands that talk to AWS load when they run (see private/aws-clients.ts).
 * Runs the built executable (dist/bin/dcf.js) with a preload that records every
 * module the process loaded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DCF = join(__dirname, '..', 'dist', 'bin', 'dcf.js');
const RECORDER = join(__dirname, 'support', 'record-modules.js');

/** Runs `dcf ...args` and returns its exit code, stdout and every module it loaded. */
function modulesLoadedBy(args: string[]): { status: number | null; stdout: string; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'dcf-startup-'));
  try {
    const record = join(dir, 'modules.txt');
    const child = spawnSync(process.execPath, [DCF, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${RECORDER}`, DCF_RECORD_MODULES: record },
      timeout: 20_000,
    });
    return { status: child.status, stdout: child.stdout, modules: readFileSync(record, 'utf8').split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([['--version'], ['--help']])('dcf %s', (flag) => {
  test('loads no module of the AWS SDK', () => {
    const { status, stdout, modules } = modulesLoadedBy([flag]);
    expect(status).toBe(0);
    expect(stdout).not.toBe('');
    // The recorder works: it saw dcf's own modules and the domain package.
    expect(modules.some((m) => m.endsWith(join('dist', 'cli.js')))).toBe(true);
    expect(modules.some((m) => m.includes('@devcontainer-factory/core') || m.includes(join('packages', 'core', 'dist')))).toBe(true);
    expect(modules.filter((m) => m.includes('@aws-sdk') || m.includes('@smithy'))).toEqual([]);
  });
});

test('the recorder sees the AWS SDK when a process loads it', () => {
  // The same check on a process that does load the SDK, so that an empty list above means something.
  const dir = mkdtempSync(join(tmpdir(), 'dcf-startup-'));
  try {
    const record = join(dir, 'modules.txt');
    const child = spawnSync(process.execPath, ['-e', "require('@aws-sdk/client-s3')"], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${RECORDER}`, DCF_RECORD_MODULES: record },
      timeout: 20_000,
    });
    expect(child.status).toBe(0);
    expect(readFileSync(record, 'utf8')).toContain('@aws-sdk/client-s3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
