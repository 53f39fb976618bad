#!/usr/bin/env node
// Moves TypeScript modules and rewrites every relative import of them, across the
// workspace: `node scripts/move-modules.mjs <from> <to> [<from> <to> …]` (paths from the
// repository root, files or folders). Each specifier is resolved from the importing
// file's old place and written again from its new place, so the move changes no
// behaviour; the type checker confirms it. Files are moved with `git mv`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
if (args.length === 0 || args.length % 2 !== 0) {
  console.error('usage: node scripts/move-modules.mjs <from> <to> [<from> <to> …]');
  process.exit(2);
}

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
const sources = tracked.filter((f) => /\.(ts|mts|cts|js|mjs|cjs)$/.test(f));

/** Old path → new path, file by file (a folder moves every tracked file under it). */
const moves = new Map();
for (let i = 0; i < args.length; i += 2) {
  const from = relative(root, resolve(root, args[i]));
  const to = relative(root, resolve(root, args[i + 1]));
  const isDir = existsSync(join(root, from)) && statSync(join(root, from)).isDirectory();
  const files = isDir ? tracked.filter((f) => f.startsWith(`${from}/`)) : [from];
  if (files.length === 0 || !tracked.includes(files[0])) throw new Error(`${from} is not tracked`);
  for (const f of files) moves.set(f, isDir ? join(to, f.slice(from.length + 1)) : to);
}
const newPath = (f) => moves.get(f) ?? f;
const trackedSet = new Set(tracked);

/** The tracked file a relative specifier of `file` names, as TypeScript resolves it. */
function target(file, spec) {
  const base = join(dirname(file), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.d.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')]) {
    if (trackedSet.has(candidate)) return candidate;
  }
  return undefined;
}

function respecify(file, spec) {
  const old = target(file, spec);
  if (!old || (!moves.has(file) && !moves.has(old))) return spec;
  const moved = newPath(old);
  const viaFolder = old.endsWith('/index.ts') && !/index(\.js)?$/.test(spec);
  let out = relative(dirname(newPath(file)), viaFolder ? dirname(moved) : moved);
  if (!viaFolder) out = out.replace(/\.ts$/, spec.endsWith('.js') ? '.js' : spec.endsWith('.ts') ? '.ts' : '');
  return out.startsWith('.') ? out : `./${out || '.'}`;
}

const SPEC = /(\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bjest\.(?:mock|requireActual)\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]*)\2/gm;
let rewritten = 0;
for (const file of sources) {
  const text = readFileSync(join(root, file), 'utf8');
  const next = text.replace(SPEC, (all, lead, quote, spec) => `${lead}${quote}${respecify(file, spec)}${quote}`);
  if (next !== text) {
    writeFileSync(join(root, file), next);
    rewritten += 1;
  }
}
for (const [from, to] of moves) {
  execFileSync('mkdir', ['-p', dirname(join(root, to))]);
  execFileSync('git', ['mv', from, to], { cwd: root });
}
console.log(`moved ${moves.size} files, rewrote the imports of ${rewritten}`);
