#!/usr/bin/env node
// Each published package's API reference, generated from its declarations (TypeDoc with its
// markdown plugin, both pinned in the root package.json) into packages/<name>/API.md, which
// the package ships and its README links to. A prop table written by hand drifts; this cannot.
//   node scripts/api-docs.mjs            writes every API.md
//   node scripts/api-docs.mjs --check    fails, naming each package, when an API.md is not what its sources give
// The packages' dependencies must be built (their declarations are read from dist):
// `pnpm exec nx run-many -t build` first. Exits 1 on a stale API.md or a TypeDoc error.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const TYPEDOC = join(REPO, 'node_modules', 'typedoc', 'bin', 'typedoc');
const TIMEOUT_MS = 5 * 60 * 1000;
const PARALLEL = 2;
const check = process.argv.includes('--check');

/** TypeDoc's options: one file per package, props as tables, only what the package exports and documents. */
const OPTIONS = [
  ['--plugin', 'typedoc-plugin-markdown'],
  ['--entryPoints', 'src/index.ts'],
  ['--tsconfig', 'tsconfig.build.json'],
  ['--outputFileStrategy', 'modules'],
  ['--entryFileName', 'API.md'],
  ['--readme', 'none'],
  ['--disableSources'],
  ['--excludePrivate'],
  ['--excludeProtected'],
  ['--excludeInternal'],
  ['--excludeExternals'],
  ['--interfacePropertiesFormat', 'table'],
  ['--classPropertiesFormat', 'table'],
  ['--parametersFormat', 'table'],
  ['--hideBreadcrumbs'],
  ['--useCodeBlocks'],
  ['--logLevel', 'Error'],
].flat();

function publishable() {
  return readdirSync(join(REPO, 'packages'))
    .sort()
    .filter((dir) => {
      const manifest = join(REPO, 'packages', dir, 'package.json');
      return existsSync(manifest) && !JSON.parse(readFileSync(manifest, 'utf8')).private;
    });
}

function run(cwd, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TYPEDOC, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? 1 : (code ?? 1), output: signal ? `${output}\nkilled after ${TIMEOUT_MS / 1000} s` : output });
    });
  });
}

/** The API.md a package's sources give now. */
async function generate(dir, out) {
  const { code, output } = await run(join(REPO, 'packages', dir), [...OPTIONS, '--out', out]);
  if (code !== 0 || !existsSync(join(out, 'API.md'))) throw new Error(`TypeDoc failed for packages/${dir} (exit ${code}):\n${output}`);
  return readFileSync(join(out, 'API.md'), 'utf8');
}

async function main() {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'dcf-api-docs-'));
  const stale = [];
  try {
    const queue = publishable();
    const results = [];
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let dir = queue.shift(); dir; dir = queue.shift()) {
          const text = await generate(dir, join(work, dir));
          results.push({ dir, text });
        }
      }),
    );
    for (const { dir, text } of results.sort((a, b) => a.dir.localeCompare(b.dir))) {
      const file = join(REPO, 'packages', dir, 'API.md');
      const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
      const sections = (text.match(/^### /gm) ?? []).length;
      if (current === text) {
        console.log(`  packages/${dir}/API.md  current (${sections} entries, ${text.length} bytes)`);
      } else if (check) {
        stale.push(`packages/${dir}/API.md`);
        console.log(`  packages/${dir}/API.md  ${current === undefined ? 'missing' : 'stale'}`);
      } else {
        writeFileSync(file, text);
        console.log(`  packages/${dir}/API.md  written (${sections} entries, ${text.length} bytes)`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (stale.length) {
    console.error(
      `api-docs: ${stale.join(', ')} ${stale.length === 1 ? 'is' : 'are'} not what the sources give: run node scripts/api-docs.mjs and commit the result (${seconds} s)`,
    );
    return 1;
  }
  console.log(`api-docs: ${check ? 'every API.md is current' : 'done'} (${seconds} s)`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(`api-docs failed: ${error.message}`);
    process.exitCode = 1;
  },
);
