/**
 * The OCI registry of `dcf local`: the CNCF distribution registry that Debian's
 * `docker-registry` package installs, started on a free port of `localhost` with
 * its storage in a temp folder, or one that already answers at an address the
 * user gave.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `docker-registry` package installs the registry. */
export const DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';

/** Thrown when no registry could be started or reached; the message says what to install or pass. */
export class LocalRegistryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalRegistryError';
  }
}

/** A registry `dcf local` works against. */
export interface LocalRegistry {
  /** `localhost:<port>`: the devcontainer CLI speaks plain HTTP only to a host named `localhost`. */
  readonly host: string;
  /** True when `dcf local` started it (and `stop()` stops it); false for one that was already running. */
  readonly started: boolean;
  /** Folder of the registry's config, log and storage, when `dcf local` started it. */
  readonly dir?: string;
  /** Process id of the registry, when `dcf local` started it. */
  readonly pid?: number;
  /** Stops the registry and removes its folder when `dcf local` started it; otherwise does nothing. Safe to call twice. */
  stop(): Promise<void>;
  /** Lets the registry outlive this process (for `--keep-running`): it keeps running and keeps its folder. */
  detach(): void;
}

export interface LocalRegistryProps {
  /**
   * Use the registry answering at this address (`localhost:<port>`) instead of starting one.
   * @default - start a new registry on a free port
   */
  readonly host?: string;
  /**
   * The registry binary.
   * @default DOCKER_REGISTRY_BINARY
   */
  readonly binary?: string;
  /**
   * Folder for the registry's storage (kept after `stop()`).
   * @default - a new temp folder, removed by `stop()`
   */
  readonly storageDir?: string;
  /**
   * How long to wait for `/v2/` to answer.
   * @default 15000
   */
  readonly startTimeoutMs?: number;
  /**
   * Start the registry in a process group of its own, so that it can outlive this
   * process (`detach()`); otherwise Ctrl-C in the terminal stops it with `dcf`.
   * @default false
   */
  readonly keepRunning?: boolean;
}

/** True when `http://<host>/v2/` answers as a registry. */
export async function registryAnswers(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200 || res.status === 401;
  } catch {
    return false;
  }
}

/** Checks `--registry`: the devcontainer CLI and the image tools only treat `localhost` as plain HTTP. */
export function localRegistryHostProblem(host: string): string | undefined {
  if (!/^localhost:\d{1,5}$/.test(host)) return `'${host}' is not a local registry address: use localhost:<port>, e.g. localhost:5000 (the devcontainer CLI speaks plain HTTP only to a host named localhost)`;
  const port = Number(host.split(':')[1]);
  if (port < 1 || port > 65535) return `'${host}' has no valid port: use a port between 1 and 65535`;
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function registryConfig(storage: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: localhost:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    '',
  ].join('\n');
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function startOnce(binary: string, dir: string, storage: string, timeoutMs: number, detached: boolean): Promise<{ child: ChildProcess; port: number } | { error: string }> {
  const port = await freePort();
  const configPath = join(dir, `config-${port}.yml`);
  await writeFile(configPath, registryConfig(storage, port));
  // Output goes to a file, not a pipe, so that a detached registry does not hold this process.
  const logPath = join(dir, 'registry.log');
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, ['serve', configPath], { stdio: ['ignore', log, log], detached });
  } finally {
    closeSync(log);
  }
  const output = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8').trim().split('\n').slice(-10).join('\n') : '');
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) return { error: `${binary} did not start: ${spawnError.message}` };
    if (child.exitCode !== null || child.signalCode !== null) return { error: `${binary} exited (${child.exitCode ?? child.signalCode}): ${output()}` };
    if (await registryAnswers(`localhost:${port}`)) return { child, port };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  return { error: `${binary} did not answer on http://localhost:${port}/v2/ within ${timeoutMs} ms: ${output()}` };
}

/**
 * Reuses the registry at `props.host` when it answers; otherwise starts
 * `docker-registry` on that port (or on a free port when no host is given).
 * @throws LocalRegistryError when the binary is missing or the registry does not come up
 */
export async function openLocalRegistry(props: LocalRegistryProps = {}): Promise<LocalRegistry> {
  if (props.host) {
    const problem = localRegistryHostProblem(props.host);
    if (problem) throw new LocalRegistryError(problem);
    if (await registryAnswers(props.host)) return { host: props.host, started: false, stop: async () => undefined, detach: () => undefined };
    throw new LocalRegistryError(`no registry answers at http://${props.host}/v2/: start one there, or leave out --registry and dcf local starts its own`);
  }
  const binary = props.binary ?? DOCKER_REGISTRY_BINARY;
  if (!existsSync(binary)) {
    throw new LocalRegistryError(`${binary} is missing: install the registry (apt-get install -y docker-registry), or pass --registry localhost:<port> of a running one`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'dcf-local-registry-'));
  const storage = props.storageDir ?? join(dir, 'storage');
  const errors: string[] = [];
  // A free port can be taken between choosing and binding it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = await startOnce(binary, dir, storage, props.startTimeoutMs ?? 15_000, props.keepRunning === true);
    if ('error' in started) {
      errors.push(started.error);
      continue;
    }
    const { child, port } = started;
    let stopped = false;
    return {
      host: `localhost:${port}`,
      started: true,
      dir,
      pid: child.pid,
      detach() {
        stopped = true;
        child.unref();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        child.kill('SIGTERM');
        if (!(await waitForExit(child, 5_000))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new LocalRegistryError(`cannot start a local registry:\n${errors.join('\n')}`);
}
