/**
 * The built `dcf` executable (dist/bin/dcf.js) as a shell runs it: a reader
 * that goes away early is not a crash.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const DCF = join(__dirname, '..', 'dist', 'bin', 'dcf.js');

describe('the dcf entry point', () => {
  test('stops quietly when its stdout is closed early (dcf --help | head -1)', async () => {
    const child = spawn(process.execPath, [DCF, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader is gone before dcf writes anything: its first write gets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));

    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));

    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 20_000);
});
