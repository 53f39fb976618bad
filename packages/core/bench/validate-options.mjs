#!/usr/bin/env node
/**
 * Time to validate a feature with 1k, 8k and 32k options, against the built
 * dist: the times should grow about linearly (32k ≈ 4 × 8k), not quadratically.
 *
 *   node bench/validate-options.mjs        (build first: pnpm exec tsc -p tsconfig.build.json)
 */
import { createRequire } from 'node:module';

const { validateFeatureFiles } = createRequire(import.meta.url)('../dist/index.js');
const enc = (s) => new TextEncoder().encode(s);

function feature(count) {
  const options = Array.from({ length: count }, (_, i) => `"opt${i}": { "type": "string", "default": "v${i}" }`);
  const text = `{ "id": "hello", "version": "1.2.3", "name": "Hello", "options": {\n${options.join(',\n')}\n} }`;
  return new Map([['devcontainer-feature.json', enc(text)], ['install.sh', enc('#!/bin/sh\n')]]);
}

validateFeatureFiles(feature(1000), { expectedId: 'hello' }); // warm up
for (const count of [1000, 8000, 32000]) {
  const files = feature(count);
  const start = process.hrtime.bigint();
  const problems = validateFeatureFiles(files, { expectedId: 'hello' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${String(count).padStart(6)} options: ${ms.toFixed(1).padStart(8)} ms (${problems.length} problems)`);
}
