// One esbuild bundle per Lambda handler (src/handlers/<name>/index.ts) and per
// CodeBuild tool (src/tools/<name>/index.ts), written to dist/bundles/<name>/index.js.
// Node 22 target, CommonJS, minified, with the AWS SDK bundled so that the
// version tested is the version deployed.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist', 'bundles');
rmSync(out, { recursive: true, force: true });

// The domain package is bundled from its TypeScript sources, not its CommonJS dist: esbuild can
// tree-shake ES modules only, and the dist's `export *` would pull every module (and yaml, fflate,
// ignore) into every bundle.
const coreSources = join(dirname(createRequire(import.meta.url).resolve('@devcontainer-factory/core/package.json')), 'src', 'index.ts');

const entries = [];
for (const group of ['handlers', 'tools']) {
  const dir = join(root, 'src', group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const entry = join(dir, name, 'index.ts');
    if (existsSync(entry)) entries.push({ name, entry });
  }
}

await Promise.all(
  entries.map(({ name, entry }) =>
    build({
      entryPoints: [entry],
      outfile: join(out, name, 'index.js'),
      bundle: true,
      alias: { '@devcontainer-factory/core': coreSources },
      platform: 'node',
      // ESM first: some dependencies (jsonc-parser) ship a UMD `main` that esbuild cannot follow.
      mainFields: ['module', 'main'],
      target: 'node22',
      format: 'cjs',
      minify: true,
      // Class and function names survive minifying: errors set `this.name` themselves, but stack traces
      // in the Lambda log (there is no source map) and anything reading `constructor.name` stay readable.
      keepNames: true,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ),
);
console.log(`bundled ${entries.length}: ${entries.map((e) => e.name).join(', ') || '(none)'}`);
