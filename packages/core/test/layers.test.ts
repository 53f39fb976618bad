import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The house plan of core (see the README's map), checked on its sources: each folder
// imports only the folders below it, no module imports a barrel (`index.ts`), and no
// two modules import each other, even through others or for types only. A new import
// that breaks the plan fails here, naming the files.

const SRC = join(__dirname, '../src');

/** Bottom to top. A folder may import its own modules and those of the layers below it. */
export const LAYERS: readonly (readonly string[])[] = [
  ['.', 'process'], // basics (errors, names, semver, …) and the process launchers
  ['oci'], // OCI names, manifests, the registry interface and client
  ['config'], // parsers of configuration files: devcontainer.json, Dockerfile, compose, lockfile
  ['archive'], // zips and the limits on them
  ['feature'], // features: content, options, tags, publishing
  ['image'], // images: source, inputs, build id, validation, release, promotion, retention
  ['supply-chain', 'account'], // the vulnerability gate and SBOMs; account-wide registry settings
  ['wire'], // the contracts between the constructs and the code that runs
  ['stages'], // one function per pipeline stage, for the cloud and dcf local
  ['catalog'], // the catalogue model
];

interface Module {
  readonly path: string;
  readonly imports: readonly string[];
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts'), base].find((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/** The modules of a source tree with what each imports (relative paths from `root`). */
export function readModules(root: string): Module[] {
  return sources(root).map((file) => {
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)'([^']+)'/gm)].map((m) => m[1]);
    const imports = specifiers.map((s) => (s.startsWith('.') ? resolveImport(file, s) : s)).filter((s): s is string => s !== undefined);
    return { path: relative(root, file), imports: imports.map((i) => (i.startsWith('/') ? relative(root, i) : i)) };
  });
}

const folderOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '.');
const layerOf = (folder: string) => LAYERS.findIndex((l) => l.includes(folder));
const isBarrel = (path: string) => path === 'index.ts' || /^[^/]+\/index\.ts$/.test(path);

/** Every import that breaks the plan, one line each. */
export function planViolations(modules: readonly Module[]): string[] {
  const problems: string[] = [];
  for (const m of modules) {
    const from = folderOf(m.path);
    if (layerOf(from) < 0) problems.push(`${m.path}: folder ${from} is in no layer: add it to LAYERS (and the README's map)`);
    for (const target of m.imports) {
      if (/^(@aws-sdk\/|aws-cdk-lib|constructs$|cdk-nag)/.test(target)) problems.push(`${m.path} imports ${target}: core has no AWS SDK and no CDK`);
      if (target.startsWith('node:') || !target.endsWith('.ts')) continue;
      const to = folderOf(target);
      if (m.path === 'index.ts') continue;
      if (isBarrel(m.path)) {
        if (to !== from) problems.push(`${m.path} re-exports ${target}: a folder's barrel exports only its own modules`);
        continue;
      }
      if (isBarrel(target)) problems.push(`${m.path} imports the barrel ${target}: import the module itself`);
      if (to === from || to === '.') continue;
      if (layerOf(to) >= layerOf(from))
        problems.push(
          `${m.path} imports ${target}: ${from} may import only the layers below it (${LAYERS.slice(0, Math.max(0, layerOf(from)))
            .flat()
            .join(', ')})`,
        );
    }
  }
  return problems;
}

/** Each import cycle between modules, as the modules on it (Tarjan's strongly connected components). */
export function importCycles(modules: readonly Module[]): string[][] {
  const graph = new Map(modules.map((m) => [m.path, m.imports.filter((i) => i.endsWith('.ts') && !isBarrel(i))]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('the house plan of core', () => {
  const modules = readModules(SRC);

  test('reads every module and its imports', () => {
    expect(modules.length).toBeGreaterThan(80);
    expect(modules.find((m) => m.path === 'image/release.ts')?.imports).toEqual(expect.arrayContaining(['semver.ts', 'oci/registry.ts']));
  });

  test('each folder imports only the layers below it, and only modules, not barrels', () => {
    expect(planViolations(modules)).toEqual([]);
  });

  test('each folder is an entry point of the package of its own (`@devcontainer-factory/core/<folder>`), besides the whole', () => {
    const exported = Object.keys((JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports);
    const folders = LAYERS.flat().filter((f) => f !== '.');
    expect(exported.sort()).toEqual(['.', './package.json', ...folders.map((f) => `./${f}`)].sort());
  });

  test('no modules import each other, even through others', () => {
    expect(importCycles(modules)).toEqual([]);
  });

  test('GIVEN an import upward, into a barrel, or round in a cycle THEN the check names it', () => {
    const broken: Module[] = [
      { path: 'oci/registry.ts', imports: ['image/release.ts', 'aws-cdk-lib'] },
      { path: 'image/release.ts', imports: ['oci/registry.ts', 'oci/index.ts'] },
      { path: 'oci/index.ts', imports: ['oci/registry.ts', 'image/release.ts'] },
      { path: 'elsewhere/x.ts', imports: [] },
    ];
    expect(planViolations(broken)).toEqual([
      'oci/registry.ts imports image/release.ts: oci may import only the layers below it (., process)',
      'oci/registry.ts imports aws-cdk-lib: core has no AWS SDK and no CDK',
      'image/release.ts imports the barrel oci/index.ts: import the module itself',
      "oci/index.ts re-exports image/release.ts: a folder's barrel exports only its own modules",
      "elsewhere/x.ts: folder elsewhere is in no layer: add it to LAYERS (and the README's map)",
    ]);
    expect(importCycles(broken)).toEqual([['image/release.ts', 'oci/registry.ts']]);
  });
});
