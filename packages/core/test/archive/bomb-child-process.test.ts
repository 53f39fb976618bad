import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * Bombs read in a child process with the heap of a 512 MB Lambda: each must be
 * refused with a clear error, not crash the process (a crashed Prepare cannot
 * report the job's failure, so the pipeline would hang). Memory figures are
 * printed by `pnpm bench`; this test checks correctness, not timing.
 */
let dir: string;
let child: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcf-bomb-'));
  child = join(dir, 'archive-child.js');
  buildSync({
    entryPoints: [join(__dirname, '../../bench/archive-child.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    mainFields: ['module', 'main'],
    outfile: child,
    logLevel: 'error',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ['zip-deflate-bomb', /inflates to more than the 50\.0 MiB the zip directory declares/],
  ['tgz-gzip-bomb', /the archive expands past \d+\.\d MiB, over the limit of 50\.0 MiB of content \(maxSize\)/],
])(
  '%s is refused under --max-old-space-size=512',
  (name, message) => {
    const input = join(dir, `${name}.bin`);
    execFileSync(process.execPath, [child, 'craft', name, input]);
    const out = execFileSync(process.execPath, ['--max-old-space-size=512', child, 'read', name, input], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = JSON.parse(out.trim()) as { outcome: string; message: string };
    expect(result.outcome).toBe('refused');
    expect(result.message).toMatch(message);
  },
  60_000,
);
