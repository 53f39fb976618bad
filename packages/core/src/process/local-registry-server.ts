/**
 * A CNCF distribution registry on this machine (Debian's `docker-registry`
 * package): started on a free port of `localhost` with its own config and
 * storage, ready once `/v2/` answers. `dcf local` and the integration tests
 * run their registry through it. Node built-ins only; nothing runs at import.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FactoryError } from '../factory-error';

/** Where Debian's `docker-registry` package installs the registry. */
export const DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';

/** Thrown when the registry could not be started; the message says why. */
export class LocalRegistryServerError extends FactoryError {}

/** Thrown when the registry binary is not installed; the message says how to install it. */
export class RegistryBinaryMissingError extends LocalRegistryServerError {
  constructor(
    readonly binary: string,
    options?: { cause?: unknown },
  ) {
    super(`${binary} is missing: install the registry (apt-get install -y docker-registry)`, options);
  }
}

/** A running registry (plain HTTP, no auth, deletes enabled). */
export interface LocalRegistryServer {
  /** `localhost:<port>`: the devcontainer CLI, buildah, skopeo and `OciRegistry` treat it as an insecure registry. */
  readonly host: string;
  readonly port: number;
  /** Folder of the registry's config and log (and storage, unless `storageDir` was given); removed by `stop()`. */
  readonly dir: string;
  /** Folder the registry stores blobs and manifests in. */
  readonly storageDir: string;
  /** Process id of the registry. */
  readonly pid?: number;
  /** Stops the registry (SIGTERM, then SIGKILL after 5 s) and removes `dir`. Safe to call twice; does nothing after `detach()`. */
  stop(): Promise<void>;
  /** Lets the registry outlive this process: it keeps running and keeps its folder. */
  detach(): void;
}

export interface LocalRegistryServerProps {
  /**
   * The registry binary.
   * @default DOCKER_REGISTRY_BINARY
   */
  readonly binary?: string;
  /**
   * Folder for the registry's storage (kept after `stop()`).
   * @default - `storage` in a new temp folder, removed by `stop()`
   */
  readonly storageDir?: string;
  /**
   * How long to wait for `/v2/` to answer.
   * @default 15000
   */
  readonly startTimeoutMs?: number;
  /**
   * Start the registry in a process group of its own, so that it can outlive this
   * process (`detach()`); otherwise Ctrl-C in the terminal stops it with this process.
   * @default false
   */
  readonly detached?: boolean;
  /**
   * Aborting it while the registry starts kills the registry, removes its folder and
   * rejects with a {@link LocalRegistryServerError} (for a Ctrl-C or SIGTERM during start-up).
   * @default - no way to abort
   */
  readonly signal?: AbortSignal;
}

/** True when `http://<host>/v2/` answers as a registry (200, or 401 for one that asks for credentials). */
export async function registryAnswers(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200 || res.status === 401;
  } catch {
    return false;
  }
}

/** A port of 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
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

interface StartAttempt {
  readonly binary: string;
  readonly dir: string;
  readonly storage: string;
  readonly timeoutMs: number;
  readonly detached: boolean;
  readonly signal?: AbortSignal;
}

async function startOnce({
  binary,
  dir,
  storage,
  timeoutMs,
  detached,
  signal,
}: StartAttempt): Promise<{ child: ChildProcess; port: number } | { error: string }> {
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
  while (Date.now() < deadline && !signal?.aborted) {
    if (spawnError) return { error: `${binary} did not start: ${spawnError.message}` };
    if (child.exitCode !== null || child.signalCode !== null) return { error: `${binary} exited (${child.exitCode ?? child.signalCode}): ${output()}` };
    if (await registryAnswers(`localhost:${port}`)) return { child, port };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await waitForExit(child, 5_000);
  if (signal?.aborted) return { error: 'aborted' };
  return { error: `${binary} did not answer on http://localhost:${port}/v2/ within ${timeoutMs} ms: ${output()}` };
}

/**
 * Starts the registry on a free port of `localhost`, with filesystem storage and
 * deletes enabled, and waits until `/v2/` answers.
 * @throws RegistryBinaryMissingError when the binary is not installed
 * @throws LocalRegistryServerError when the registry does not come up (its output is in the message)
 */
export async function startLocalRegistryServer(props: LocalRegistryServerProps = {}): Promise<LocalRegistryServer> {
  const binary = props.binary ?? DOCKER_REGISTRY_BINARY;
  if (!existsSync(binary)) throw new RegistryBinaryMissingError(binary);
  const dir = await mkdtemp(join(tmpdir(), 'dcf-registry-'));
  const storageDir = props.storageDir ?? join(dir, 'storage');
  const errors: string[] = [];
  // A free port can be taken between choosing and binding it: try a few.
  for (let attempt = 0; attempt < 3 && !props.signal?.aborted; attempt++) {
    const started = await startOnce({
      binary,
      dir,
      storage: storageDir,
      timeoutMs: props.startTimeoutMs ?? 15_000,
      detached: props.detached === true,
      signal: props.signal,
    });
    if ('error' in started) {
      errors.push(started.error);
      continue;
    }
    const { child, port } = started;
    let detached = false;
    let stopping: Promise<void> | undefined;
    return {
      host: `localhost:${port}`,
      port,
      dir,
      storageDir,
      pid: child.pid,
      detach() {
        if (!stopping) detached = true;
        child.unref();
      },
      // One stop, however many callers (the command's own and a signal's): each waits until the folder is gone.
      stop() {
        if (detached) return Promise.resolve();
        stopping ??= (async () => {
          child.kill('SIGTERM');
          if (!(await waitForExit(child, 5_000))) {
            child.kill('SIGKILL');
            await waitForExit(child, 5_000);
          }
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  if (props.signal?.aborted) throw new LocalRegistryServerError('the local registry was stopped while it started (interrupted)');
  throw new LocalRegistryServerError(`cannot start a local registry:\n${errors.join('\n')}`);
}
