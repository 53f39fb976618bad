/**
 * moto_server (moto 5, an AWS emulator) on a free loopback port, ready once it answers:
 * the control planes (S3, DynamoDB, SSM, …) that the deploy rehearsal and the
 * integration tests point the AWS SDK at. Node built-ins only; nothing runs at import.
 */
import { spawn, spawnSync } from 'node:child_process';
import { FactoryError } from '../factory-error';
import { freePort } from './local-registry-server';

/** Thrown when moto_server is missing or does not start; the message says why and what to do. */
export class MotoServerError extends FactoryError {}

/** A running moto_server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the SDK clients' `endpoint`. */
  readonly endpoint: string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

/** How long moto may take to answer its first request. */
export const MOTO_START_TIMEOUT_MS = 30_000;

/**
 * Starts moto_server and waits until it answers.
 * @param neededBy what needs it, for the message when it is not on the PATH (e.g. "the rehearsal's control planes")
 * @throws MotoServerError when it is not on the PATH (saying how to install it), exits, or does not answer in time
 */
export async function startMotoServer(neededBy = 'these tests'): Promise<MotoServer> {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status !== 0) {
    throw new MotoServerError(
      `moto_server (moto 5, the AWS emulator ${neededBy} run on) is not on the PATH: install it with \`pipx install 'moto[server]'\` (or \`pip install 'moto[server]'\`), then run again`,
    );
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
    if (child.exitCode !== null) throw new MotoServerError(`moto_server exited with ${child.exitCode} before answering: ${stderr}`);
    const up = await fetch(`${endpoint}/moto-api/`).then(
      (res) => res.status < 500,
      () => false,
    );
    if (up) return { endpoint, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new MotoServerError(`moto_server did not answer on ${endpoint} within ${MOTO_START_TIMEOUT_MS / 1000} s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
