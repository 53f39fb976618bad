#!/usr/bin/env node
/**
 * Size and cold `require` time of each bundle in dist/bundles/<name>/index.js
 * (`pnpm run build` first): the time is the median of 5 fresh `node` processes,
 * each timing only its own `require` of the bundle, which is what a Lambda's
 * init phase pays for the code before the handler runs. A CodeBuild tool's bundle
 * runs its command on load (with no arguments: its usage, on stderr, which is dropped).
 * Figures, not assertions.
 *
 *   pnpm --filter @devcontainer-factory/lambdas bench      (or: node bench/bundles.mjs [dir])
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = 5;
const here = dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? join(here, '..', 'dist', 'bundles');
// Runs in the child: the bundle's path is its only argument; prints milliseconds.
const TIMER = 'const t=process.hrtime.bigint();require(process.argv[1]);console.log(Number(process.hrtime.bigint()-t)/1e6)';

const bundles = existsSync(dir) ? readdirSync(dir).filter((name) => existsSync(join(dir, name, 'index.js'))).sort() : [];
if (bundles.length === 0) {
  console.error(`no bundles in ${dir}: run \`pnpm run build\` first`);
  process.exit(1);
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`bundle                size (KiB)  cold require (ms, median of ${RUNS})`);
for (const name of bundles) {
  const file = join(dir, name, 'index.js');
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const child = spawnSync(process.execPath, ['-e', TIMER, file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1', NODE_OPTIONS: '' },
    });
    const ms = Number(child.stdout.trim().split('\n').pop());
    if (!Number.isFinite(ms)) throw new Error(`${file}: no time from the child (exit ${child.status}): ${child.stdout.slice(0, 200)}`);
    times.push(ms);
  }
  const kib = statSync(file).size / 1024;
  console.log(`${name.padEnd(20)}  ${kib.toFixed(1).padStart(10)}  ${median(times).toFixed(1).padStart(8)}`);
}
