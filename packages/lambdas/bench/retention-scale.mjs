#!/usr/bin/env node
/**
 * Runs bench/retention-scale.ts (bundled with esbuild): requests and time of retention
 * on a release repository of about 10,000 tags. Figures, not assertions.
 *
 *   node bench/retention-scale.mjs [releases]     (3,400 releases: about 10,000 tags)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dcf-bench-'));
try {
  const out = join(dir, 'retention-scale.js');
  buildSync({ entryPoints: [join(here, 'retention-scale.ts')], bundle: true, platform: 'node', target: 'node20', mainFields: ['module', 'main'], outfile: out, logLevel: 'error' });
  execFileSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, AWS_REGION: 'eu-west-1' } });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
