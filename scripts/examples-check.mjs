#!/usr/bin/env node
// Can each construct package be used outside the workspace, exactly as its README shows?
//   pnpm exec nx run-many -t build && node scripts/examples-check.mjs [--keep]
// Packs every publishable package (`pnpm pack`), installs the tarballs with npm into a fresh
// CDK app in the temp folder (every @devcontainer-factory/* name resolved to its tarball through
// npm `overrides`), takes the first ```ts block of each construct package's README unchanged,
// compiles them with tsc (strict) and runs each with `node`, then checks that each synthesized
// a cloud assembly with at least one template that has resources. Builds nothing itself.
// Exits non-zero naming the README and the step that failed. --keep keeps the temp folder.
// --peers minimum installs the lowest aws-cdk-lib and constructs the construct packages' peer
// ranges admit (the floor of `^X.Y.Z`, the same in every construct package) instead of the
// workspace's pins, so the declared minimum is the tested one.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = ['warehouse', 'image-pipeline', 'feature-pipeline'];
const CHILD_TIMEOUT_MS = 10 * 60 * 1000;
const keep = process.argv.includes('--keep');
const peersArg = process.argv.indexOf('--peers');
const peers = peersArg < 0 ? 'pinned' : process.argv[peersArg + 1];
if (!['pinned', 'minimum'].includes(peers)) {
  console.error(`examples-check: --peers must be pinned or minimum, got ${JSON.stringify(peers)}`);
  process.exit(2);
}

const bold = (s) => (process.stderr.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s) => console.error(bold(`--> ${s}`));

class CheckError extends Error {}

// Each child runs in its own process group, so that a timeout or an interrupt ends what it started too.
const running = new Set();
let workDir; // removed on an interrupt too, unless --keep
const killGroup = (child) => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of running) killGroup(child);
    if (workDir && !keep) rmSync(workDir, { recursive: true, force: true });
    process.kill(process.pid, signal);
  });
}

/** Runs a command with a 10-minute bound; resolves with its exit code and combined output. */
function run(command, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, CHILD_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new CheckError(`could not start \`${command} ${args.join(' ')}\` in ${cwd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (timedOut) {
        resolve({ code: 1, output: `${output}\n\`${command} ${args.join(' ')}\` did not finish within ${CHILD_TIMEOUT_MS / 60000} minutes and was killed` });
      } else {
        resolve({ code: code ?? 1, output: signal ? `${output}\nkilled by ${signal}` : output });
      }
    });
  });
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Every publishable package under packages/, with its dist checked. */
function publishablePackages() {
  const packagesDir = join(REPO, 'packages');
  const found = [];
  for (const dir of readdirSync(packagesDir).sort()) {
    const manifestPath = join(packagesDir, dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = readJson(manifestPath);
    if (manifest.private) continue;
    const main = join(packagesDir, dir, manifest.main ?? 'dist/index.js');
    if (!existsSync(join(packagesDir, dir, 'dist')) || !existsSync(main)) {
      throw new CheckError(
        `${relative(REPO, main)} is missing: packages/${dir} is not built. Run \`pnpm exec nx run-many -t build\` first (this check builds nothing).`,
      );
    }
    found.push({ dir, name: manifest.name, path: join(packagesDir, dir) });
  }
  return found;
}

/** The floor of `dep`'s peer range (`^X.Y.Z` → `X.Y.Z`), which every construct package must declare alike. */
function peerFloor(packages, dep) {
  const ranges = new Map();
  for (const p of packages) {
    const range = readJson(join(p.path, 'package.json')).peerDependencies?.[dep];
    if (range) ranges.set(p.name, range);
  }
  const distinct = [...new Set(ranges.values())];
  if (distinct.length !== 1)
    throw new CheckError(`the construct packages must declare one ${dep} peer range, they declare ${JSON.stringify(Object.fromEntries(ranges))}`);
  const floor = /^\^(\d+\.\d+\.\d+)$/.exec(distinct[0])?.[1];
  if (!floor) throw new CheckError(`the ${dep} peer range ${distinct[0]} is not ^X.Y.Z, so it has no one floor to test`);
  return floor;
}

/**
 * Unpacks a tarball and checks what a user gets: README.md, LICENSE and CHANGELOG.md, and
 * every source or declaration map's `sources` inside the package (a map that points at a
 * file the package does not ship sends "go to definition" nowhere).
 */
async function checkTarball(tarball, into) {
  mkdirSync(into, { recursive: true });
  const { code, output } = await run('tar', ['-xzf', tarball, '-C', into]);
  if (code !== 0) throw new CheckError(`cannot unpack ${tarball}:\n${output}`);
  const root = join(into, 'package');
  for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (!existsSync(join(root, file))) throw new CheckError(`${relative(REPO, tarball)} has no ${file}: add it to the package's files`);
  }
  const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const maps = files.filter((e) => e.name.endsWith('.map')).map((e) => join(e.parentPath ?? e.path, e.name));
  for (const map of maps) {
    for (const source of readJson(map).sources ?? []) {
      const target = join(dirname(map), source);
      if (!existsSync(target)) throw new CheckError(`${relative(root, map)} in ${tarball} points at ${source}, which the package does not ship`);
    }
  }
  return { files: files.length, maps: maps.length };
}

/** The first ```ts fenced block of a README, unchanged. */
function firstTsBlock(readme) {
  const match = /^```ts[ \t]*\r?\n([\s\S]*?)^```[ \t]*$/m.exec(readFileSync(readme, 'utf8'));
  if (!match) throw new CheckError(`${relative(REPO, readme)} has no \`\`\`ts block`);
  return match[1];
}

/** Every file under dir whose name ends with suffix. */
function findFiles(dir, suffix) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

/** Checks an example's cloud assembly; returns its stacks and resource count. */
function checkAssembly(outdir) {
  if (!existsSync(join(outdir, 'manifest.json')))
    throw new CheckError(`no manifest.json in ${outdir}: nothing was synthesized (does the example call \`new App()\`?)`);
  const templates = findFiles(outdir, '.template.json');
  if (templates.length === 0) throw new CheckError(`no *.template.json in ${outdir}: the app has no stack`);
  const stacks = templates.map((t) => ({
    name: relative(outdir, t).replace(/\.template\.json$/, ''),
    resources: Object.keys(readJson(t).Resources ?? {}).length,
  }));
  if (!stacks.some((s) => s.resources > 0)) throw new CheckError(`every template in ${outdir} has empty Resources`);
  return stacks;
}

async function main() {
  const started = Date.now();
  const root = readJson(join(REPO, 'package.json'));
  const packages = publishablePackages();
  const pinned = (dep) => root.devDependencies?.[dep] ?? root.dependencies?.[dep] ?? fail(`the root package.json pins no ${dep}`);
  const pin = peers === 'pinned' ? pinned : (dep) => peerFloor(packages, dep);

  const work = mkdtempSync(join(tmpdir(), 'dcf-examples-check-'));
  workDir = work;
  const failures = [];
  try {
    const tarballDir = join(work, 'tarballs');
    mkdirSync(tarballDir);
    say(`Packing ${packages.map((p) => p.dir).join(', ')} (pnpm pack)`);
    const tarballs = {};
    for (const p of packages) {
      const { code, output } = await run('pnpm', ['pack', '--json', '--pack-destination', tarballDir], { cwd: p.path });
      if (code !== 0) throw new CheckError(`pnpm pack failed in packages/${p.dir}:\n${output}`);
      const filename = JSON.parse(output.slice(output.indexOf('{'))).filename;
      if (!filename || !existsSync(filename)) throw new CheckError(`pnpm pack in packages/${p.dir} wrote no tarball:\n${output}`);
      tarballs[p.name] = `file:${filename}`;
      const shipped = await checkTarball(filename, join(work, 'unpacked', p.dir));
      console.log(`  ${p.name.padEnd(40)} ${relative(work, filename)} (${shipped.files} files, ${shipped.maps} maps, every map's sources inside)`);
    }

    // Fresh app outside the workspace: the tarballs, and aws-cdk-lib and constructs as pinned by the workspace.
    // The packed manifests name sibling versions that are not on npm; overrides send every such name to its tarball.
    const app = join(work, 'app');
    mkdirSync(app);
    const appDeps = Object.fromEntries(Object.entries(tarballs).filter(([name]) => name !== '@devcontainer-factory/cli'));
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify(
        {
          name: 'dcf-examples-check-app',
          private: true,
          dependencies: { ...appDeps, 'aws-cdk-lib': pin('aws-cdk-lib'), constructs: pin('constructs') },
          devDependencies: { typescript: '~5.9.0', '@types/node': '^20.0.0' },
          overrides: tarballs,
        },
        null,
        2,
      )}\n`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      `${JSON.stringify(
        {
          compilerOptions: { strict: true, module: 'commonjs', target: 'ES2022', moduleResolution: 'node10', types: ['node'], outDir: 'out' },
          files: EXAMPLES.map((e) => `${e}.ts`),
        },
        null,
        2,
      )}\n`,
    );
    say(`Installing the tarballs, aws-cdk-lib ${pin('aws-cdk-lib')} and constructs ${pin('constructs')} into ${app} (npm install)`);
    const installStarted = Date.now();
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app });
    if (install.code !== 0) throw new CheckError(`npm install failed in ${app}:\n${install.output}`);
    console.log(`  installed in ${((Date.now() - installStarted) / 1000).toFixed(1)} s`);
    for (const name of Object.keys(tarballs)) {
      const installed = join(app, 'node_modules', name, 'package.json');
      if (existsSync(installed) && !readJson(join(app, 'package-lock.json')).packages?.[`node_modules/${name}`]?.resolved?.startsWith('file:')) {
        throw new CheckError(`${name} was installed from a registry, not from its tarball`);
      }
    }

    const readmes = Object.fromEntries(EXAMPLES.map((e) => [e, join(REPO, 'packages', e, 'README.md')]));
    for (const e of EXAMPLES) writeFileSync(join(app, `${e}.ts`), firstTsBlock(readmes[e]));

    say(`Compiling ${EXAMPLES.map((e) => `${e}.ts`).join(', ')} (tsc, strict, commonjs, ES2022)`);
    const tscStarted = Date.now();
    const tsc = await run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: app });
    console.log(`  compiled in ${((Date.now() - tscStarted) / 1000).toFixed(1)} s`);
    // With --pretty false, tsc prints one `file(line,col): error TS…` line per error, continued by indented lines.
    const compileErrors = {};
    let current = '';
    for (const line of tsc.output.split('\n')) {
      if (!line.trim()) continue;
      if (!/^\s/.test(line)) current = EXAMPLES.find((e) => line.startsWith(`${e}.ts(`)) ?? '';
      (compileErrors[current] ??= []).push(line);
    }
    if (compileErrors[''] || (tsc.code !== 0 && Object.keys(compileErrors).length === 0)) {
      throw new CheckError(`tsc failed outside the examples (exit ${tsc.code}):\n${tsc.output}`);
    }

    say('Running each example with node (CDK_OUTDIR set) and checking its cloud assembly');
    for (const e of EXAMPLES) {
      const readme = relative(REPO, readmes[e]);
      if (compileErrors[e]) {
        failures.push(`${readme}: the first \`\`\`ts block does not compile (tsc):\n${compileErrors[e].join('\n')}`);
        console.log(`  ${e.padEnd(18)} FAILED (compile)`);
        continue;
      }
      const outdir = join(work, 'cdk.out', e);
      mkdirSync(outdir, { recursive: true });
      const result = await run(process.execPath, [join(app, 'out', `${e}.js`)], { cwd: app, env: { CDK_OUTDIR: outdir } });
      if (result.code !== 0) {
        failures.push(`${readme}: the first \`\`\`ts block fails when run (node out/${e}.js, exit ${result.code}):\n${result.output.trim()}`);
        console.log(`  ${e.padEnd(18)} FAILED (run)`);
        continue;
      }
      try {
        const stacks = checkAssembly(outdir);
        const total = stacks.reduce((n, s) => n + s.resources, 0);
        console.log(`  ${e.padEnd(18)} ${stacks.length} stack(s), ${total} resources: ${stacks.map((s) => `${s.name} (${s.resources})`).join(', ')}`);
      } catch (err) {
        if (!(err instanceof CheckError)) throw err;
        failures.push(`${readme}: the first \`\`\`ts block ran, but its cloud assembly is wrong: ${err.message}`);
        console.log(`  ${e.padEnd(18)} FAILED (cloud assembly)`);
      }
    }
  } finally {
    if (keep) console.error(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    for (const f of failures) console.error(`\nexamples-check failed: ${f}`);
    console.error(`\nexamples-check: ${failures.length} of ${EXAMPLES.length} README examples failed (${seconds} s)`);
    return 1;
  }
  console.log(
    `examples-check: OK, ${EXAMPLES.length} README examples compiled and synthesized outside the workspace with aws-cdk-lib ${pin('aws-cdk-lib')} and constructs ${pin('constructs')} (${peers === 'minimum' ? "the peer ranges' minimum" : "the workspace's pins"}, ${seconds} s)`,
  );
  return 0;
}

function fail(message) {
  throw new CheckError(message);
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`examples-check failed: ${err instanceof CheckError ? err.message : err.stack}`);
    process.exitCode = 1;
  },
);
