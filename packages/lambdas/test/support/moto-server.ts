import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A running `moto_server` (moto 5, an AWS emulator) on a loopback port. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the SDK clients' `endpoint`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** What tests give the SDK clients they point at moto. */
export const MOTO_CLIENT_CONFIG = { region: 'eu-west-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } } as const;

/** How long moto may take to answer its first request. */
const START_TIMEOUT_MS = 30_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `moto_server` on a free loopback port and waits until it answers. Fails with
 * how to install it when it is not on the PATH (this kind of machine ships it; elsewhere
 * `pipx install 'moto[server]'` or `pip install 'moto[server]'`).
 */
export async function startMotoServer(): Promise<MotoServer> {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status !== 0) {
    throw new Error("moto_server (moto 5, the AWS emulator these tests run against) is not on the PATH: install it with `pipx install 'moto[server]'` (or `pip install 'moto[server]'`), then run the tests again");
  }
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before answering: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint} within ${START_TIMEOUT_MS / 1000} s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { endpoint, stop };
}
