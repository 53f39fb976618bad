#!/usr/bin/env node
/**
 * Peak memory of the production archive readers on the worst inputs the tests
 * use: each case runs in its own `node --max-old-space-size=512` child (the heap
 * of a 512 MB Lambda) and prints its peak RSS against the bound we state.
 *
 *   pnpm --filter @devcontainer-factory/core bench      (or: node bench/archive-memory.mjs [case…])
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** Peak RSS every case must stay under, input included. */
export const RSS_BOUND_MIB = 256;

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dcf-bench-'));
const child = join(dir, 'archive-child.js');
const CASES = ['zip-deflate-bomb', 'zip-many-entries', 'zip-overlapping-entries', 'zip-largest-accepted', 'tgz-gzip-bomb', 'json-deep'];
let failed = false;
try {
  buildSync({ entryPoints: [join(here, 'archive-child.ts')], bundle: true, platform: 'node', target: 'node20', mainFields: ['module', 'main'], outfile: child, logLevel: 'error' });
  for (const name of process.argv.length > 2 ? process.argv.slice(2) : CASES) {
    let result;
    const input = join(dir, `${name}.bin`);
    execFileSync(process.execPath, [child, 'craft', name, input], { stdio: 'inherit' });
    try {
      result = JSON.parse(execFileSync(process.execPath, ['--max-old-space-size=512', child, 'read', name, input], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'pipe'] }).trim());
    } catch (e) {
      failed = true;
      console.log(`${name.padEnd(24)} CRASHED: ${String(e.stderr ?? e.message).split('\n').filter(Boolean).slice(-1)[0]}`);
      continue;
    } finally {
      rmSync(input, { force: true });
    }
    const ok = result.peakRssMiB <= RSS_BOUND_MIB && result.outcome !== 'error';
    failed ||= !ok;
    console.log(
      `${name.padEnd(24)} ${result.outcome.padEnd(7)} input ${String(result.inputMiB).padStart(5)} MiB  ` +
        `peak RSS ${String(result.peakRssMiB).padStart(6)} MiB, bound ${RSS_BOUND_MIB} MiB  heap ${result.heapUsedMiB} MiB  ${result.ms} ms  ${ok ? 'ok' : 'OVER'}`,
    );
    console.log(`${''.padEnd(24)} ${result.what}${result.message ? `: ${result.message}` : ''}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
