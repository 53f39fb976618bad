import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `docker-registry` package installs the CNCF distribution registry. */
export const DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';

/** A running local OCI registry (plain HTTP, no auth, deletes enabled). */
export interface LocalRegistry {
  /** `localhost:<port>`: the devcontainer CLI, buildah, skopeo and {@link OciRegistry} all treat it as an insecure registry. */
  readonly host: string;
  readonly port: number;
  /** Temp folder of the registry's config and storage; removed by `stop()`. */
  readonly dir: string;
  /** Stops the registry (SIGTERM, then SIGKILL after 5 s) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export interface LocalRegistryOptions {
  /**
   * The registry binary.
   * @default DOCKER_REGISTRY_BINARY
   */
  readonly binary?: string;
  /**
   * How long to wait for `/v2/` to answer.
   * @default 15000
   */
  readonly startTimeoutMs?: number;
}

/** A port that was free a moment ago (the OS picks it). */
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

function config(storage: string, port: number): string {
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

async function startOnce(binary: string, dir: string, timeoutMs: number): Promise<{ child: ChildProcess; port: number } | { error: string }> {
  const port = await freePort();
  const configPath = join(dir, `config-${port}.yml`);
  await writeFile(configPath, config(join(dir, 'storage'), port));
  const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) return { error: `${binary} did not start: ${spawnError.message}` };
    if (child.exitCode !== null || child.signalCode !== null) return { error: `${binary} exited (${child.exitCode ?? child.signalCode}): ${output.trim()}` };
    try {
      const res = await fetch(`http://localhost:${port}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200) return { child, port };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  return { error: `${binary} did not answer on http://localhost:${port}/v2/ within ${timeoutMs} ms: ${output.trim()}` };
}

/**
 * Starts the CNCF distribution registry (`/usr/bin/docker-registry`) on a free port
 * of `localhost`, with filesystem storage in a new temp folder and deletes enabled,
 * and waits until `/v2/` answers. Call `stop()` in `afterAll`.
 * Throws, never skips, when the binary is missing.
 */
export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  const binary = options.binary ?? DOCKER_REGISTRY_BINARY;
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: the registry integration tests need a real OCI registry; install it with 'apt-get install -y docker-registry'`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'dcf-registry-'));
  const errors: string[] = [];
  // A port can be taken between choosing it and binding it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = await startOnce(binary, dir, options.startTimeoutMs ?? 15_000);
    if ('error' in started) {
      errors.push(started.error);
      continue;
    }
    const { child, port } = started;
    let stopped = false;
    return {
      host: `localhost:${port}`,
      port,
      dir,
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
  throw new Error(`cannot start a local registry:\n${errors.join('\n')}`);
}
