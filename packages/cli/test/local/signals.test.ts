/**
 * `dcf local run` stopped by a signal, as a supervisor sends it (SIGTERM to its pid
 * alone) and as a terminal does (SIGINT to the whole process group): the registry
 * it started must be gone, and no dcf-* temp folder left. Runs the built CLI.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(60_000);

const REPO_ROOT = join(__dirname, '../../../..');
const DCF = join(__dirname, '../../dist/bin/dcf.js');

/** Pids of live (not zombie) processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (cmdline.includes(text) && state !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'signals-test-'));
});
afterEach(() => {
  for (const pid of processesMentioning(tmp)) process.kill(pid, 'SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

test.each([
  ['SIGTERM to the pid alone (a supervisor)', 'SIGTERM', false, 143],
  ['SIGINT to the process group (Ctrl-C in a terminal)', 'SIGINT', true, 130],
] as const)('%s stops the registry and removes the temp folders', async (_name, signal, group, exitCode) => {
  const child = spawn(process.execPath, [DCF, 'local', 'run', 'examples/catalog.yaml'], {
    cwd: REPO_ROOT,
    env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  // The registry is up once dcf names its address.
  const port = await until('the registry', () => /registry localhost:(\d+) \(started\)/.exec(stderr)?.[1]).then(Number);
  expect(readdirSync(tmp).some((f) => f.startsWith('dcf-registry-'))).toBe(true);
  const registryPids = processesMentioning(join(tmp, 'dcf-registry-'));
  expect(registryPids).toHaveLength(1);

  process.kill(group ? -child.pid! : child.pid!, signal);

  expect(await exited).toBe(exitCode);
  await until('the registry to exit', () => processesMentioning(join(tmp, 'dcf-registry-')).length === 0, 10_000);
  expect(existsSync(`/proc/${registryPids[0]}/cmdline`) && processesMentioning(tmp).includes(registryPids[0])).toBe(false);
  expect(await refuses(port)).toBe(true);
  expect(readdirSync(tmp).filter((f) => f.startsWith('dcf-'))).toEqual([]);
  expect(stderr).toContain(`dcf: ${signal}: stopping what dcf started`);
});
