/**
 * moto_server (moto 5, an AWS emulator) on a free loopback port: the control planes of
 * S3, DynamoDB and SSM for the rehearsal.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { RehearsalError } from './errors';

/** A running moto_server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** How long moto may take to answer its first request. */
export const MOTO_START_TIMEOUT_MS = 30_000;

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

/** Starts moto_server; fails saying how to install it when it is not on the PATH. */
export async function startMotoServer(): Promise<MotoServer> {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status !== 0) {
    throw new RehearsalError("moto_server (moto 5, the AWS emulator the rehearsal's control planes run on) is not on the PATH: install it with `pipx install 'moto[server]'` (or `pip install 'moto[server]'`), then run the rehearsal again");
  }
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  const deadline = Date.now() + MOTO_START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new RehearsalError(`moto_server exited with ${child.exitCode} before answering: ${stderr}`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (res) => res.status < 500,
      () => false,
    );
    if (up) return { endpoint, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new RehearsalError(`moto_server did not answer on ${endpoint} within ${MOTO_START_TIMEOUT_MS / 1000} s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
