// Every workspace package agrees on its published metadata: one engines range, peer
// ranges the workspace actually tests with, `types` first in `exports`, and no
// tsbuildinfo in what is published.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_AWS_CDK_LIB, MIN_CDK_NAG, MIN_CONSTRUCTS } from '../src/cdk-requirements';

const ROOT = join(__dirname, '../../..');

interface PackageJson {
  name: string;
  private?: boolean;
  engines?: { node?: string };
  exports?: Record<string, unknown>;
  files?: string[];
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  repository?: { type: string; url: string; directory?: string };
  homepage?: string;
  bugs?: { url: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** The folders that pnpm-workspace.yaml's `packages:` globs (`dir/*` or `dir`) name. */
function workspacePackageDirs(): string[] {
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const globs: string[] = [];
  let inPackages = false;
  for (const line of yaml.split('\n')) {
    if (/^packages:\s*$/.test(line)) {
      inPackages = true;
      continue;
    }
    if (inPackages && /^\S/.test(line)) inPackages = false;
    const item = inPackages ? /^\s+-\s+['"]?([^'"#\s]+)['"]?/.exec(line) : null;
    if (item) globs.push(item[1]);
  }
  return globs
    .flatMap((glob) => {
      if (!glob.endsWith('/*')) return [join(ROOT, glob)];
      const parent = join(ROOT, glob.slice(0, -2));
      return readdirSync(parent, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(parent, e.name));
    })
    .filter((dir) => existsSync(join(dir, 'package.json')));
}

type Version = [number, number, number];

function parseVersion(text: string): Version {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!m) throw new Error(`not a version: ${text}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The lowest version a caret range (`^X.Y.Z`, X ≥ 1, the only form these packages use) admits. */
function caretFloor(range: string): Version {
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range.trim());
  if (!m || parseVersion(m[1])[0] === 0) throw new Error(`expected a caret range ^X.Y.Z with X >= 1, got ${range}`);
  return parseVersion(m[1]);
}

function satisfiesCaret(version: string, range: string): boolean {
  const floor = caretFloor(range);
  const v = parseVersion(version);
  return v[0] === floor[0] && compare(v, floor) >= 0;
}

const installed = (name: string): string =>
  (JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [ROOT] }), 'utf8')) as { version: string }).version;

const packages = workspacePackageDirs().map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson }));
const publishable = packages.filter(({ pkg }) => !pkg.private);
const cdkNagPeers = (JSON.parse(readFileSync(require.resolve('cdk-nag/package.json'), 'utf8')) as PackageJson).peerDependencies ?? {};

describe('workspace package metadata', () => {
  test('GIVEN pnpm-workspace.yaml THEN it names every package, the private app included', () => {
    const names = packages.map(({ pkg }) => pkg.name);
    expect(names).toEqual(
      expect.arrayContaining([
        '@devcontainer-factory/core',
        '@devcontainer-factory/lambdas',
        '@devcontainer-factory/warehouse',
        '@devcontainer-factory/pipeline-parts',
        '@devcontainer-factory/image-pipeline',
        '@devcontainer-factory/feature-pipeline',
        '@devcontainer-factory/cli',
        '@devcontainer-factory/factory',
      ]),
    );
  });

  test('GIVEN every workspace package THEN each declares the same engines.node, >=20', () => {
    const engines = new Map(packages.map(({ pkg }) => [pkg.name, pkg.engines?.node]));
    expect(new Set(engines.values())).toEqual(new Set(['>=20']));
  });

  describe.each([
    ['aws-cdk-lib', MIN_AWS_CDK_LIB],
    ['constructs', MIN_CONSTRUCTS],
    ['cdk-nag', MIN_CDK_NAG],
  ])('peer dependency %s', (peer, minimum) => {
    const withPeer = packages.filter(({ pkg }) => pkg.peerDependencies?.[peer]);

    test('GIVEN the construct packages THEN each one has it as a peer', () => {
      expect(withPeer.map(({ pkg }) => pkg.name).sort()).toEqual([
        '@devcontainer-factory/feature-pipeline',
        '@devcontainer-factory/image-pipeline',
        '@devcontainer-factory/pipeline-parts',
        '@devcontainer-factory/warehouse',
      ]);
    });

    test.each(withPeer.map(({ pkg }) => [pkg.name, pkg.peerDependencies![peer]]))(
      `GIVEN %s THEN its range %s starts at the minimum the constructs check for (${minimum}), which examples-check installs`,
      (_name, range) => {
        expect(range).toBe(`^${minimum}`);
      },
    );

    test.each(withPeer.map(({ pkg }) => [pkg.name, pkg.peerDependencies![peer]]))(
      'GIVEN %s THEN its range %s admits the installed version the workspace tests with',
      (_name, range) => {
        expect(satisfiesCaret(installed(peer), range)).toBe(true);
      },
    );
  });

  describe.each(['aws-cdk-lib', 'constructs'])('peer dependency %s and cdk-nag', (peer) => {
    const withPeer = packages.filter(({ pkg }) => pkg.peerDependencies?.[peer]);
    test.each(withPeer.map(({ pkg }) => [pkg.name, pkg.peerDependencies![peer]]))(
      'GIVEN %s THEN its range %s starts no lower than what cdk-nag 3 needs',
      (_name, range) => {
        expect(cdkNagPeers[peer]).toBeDefined();
        expect(compare(caretFloor(range), caretFloor(cdkNagPeers[peer]))).toBeGreaterThanOrEqual(0);
      },
    );
  });

  test('GIVEN the construct packages THEN cdk-nag is an optional peer: an app without cdk-nag installs them without a warning', () => {
    const withNag = packages.filter(({ pkg }) => pkg.peerDependencies?.['cdk-nag']);
    expect(withNag.length).toBe(4);
    for (const { pkg } of withNag)
      expect({ name: pkg.name, meta: pkg.peerDependenciesMeta?.['cdk-nag'] }).toEqual({ name: pkg.name, meta: { optional: true } });
  });

  test.each(publishable.map(({ pkg }) => [pkg.name, pkg]))('GIVEN %s THEN every condition object in exports lists types first', (_name, pkg) => {
    const p = pkg as PackageJson;
    expect(p.exports).toBeDefined();
    const conditions = Object.values(p.exports!).filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null);
    expect(conditions.length).toBeGreaterThan(0);
    for (const c of conditions) expect(Object.keys(c)[0]).toBe('types');
  });

  const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  test.each(publishable.map(({ dir, pkg }) => [pkg.name, dir, pkg]))(
    'GIVEN %s THEN it names its repository folder, homepage and issues (npm provenance refuses a package without repository), and ships LICENSE and CHANGELOG.md',
    (_name, dir, pkg) => {
      const p = pkg as PackageJson;
      const folder = (dir as string).slice(ROOT.length + 1);
      expect(rootPkg.repository?.url).toMatch(/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
      const web = rootPkg.repository!.url.replace(/^git\+/, '').replace(/\.git$/, '');
      expect(p.repository).toEqual({ type: 'git', url: rootPkg.repository!.url, directory: folder });
      expect(p.homepage).toBe(`${web}/tree/main/${folder}#readme`);
      expect(p.bugs).toEqual({ url: `${web}/issues` });
      expect(p.files).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'LICENSE']));
      expect(readFileSync(join(dir as string, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
      expect(readFileSync(join(dir as string, 'CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`^# ${p.name}\n`));
    },
  );

  test.each(publishable.map(({ dir, pkg }) => [pkg.name, dir]))(
    'GIVEN the README of %s THEN it links to nothing outside the package: on npm a relative link out of it goes nowhere',
    (_name, dir) => {
      const links = [...readFileSync(join(dir as string, 'README.md'), 'utf8').matchAll(/\]\((\.\.\/[^)]*)\)/g)].map((m) => m[1]);
      expect(links).toEqual([]);
    },
  );

  // The generated API.md (checked against the sources by scripts/api-docs.mjs) is the list of props; the README's table must name each.
  test.each([
    ['image-pipeline', 'ImagePipelineProps'],
    ['feature-pipeline', 'FeaturePipelineProps'],
    ['warehouse', 'WarehouseProps'],
  ])('GIVEN the README of packages/%s THEN its table names every prop of %s', (dir, iface) => {
    const api = readFileSync(join(ROOT, 'packages', dir, 'API.md'), 'utf8');
    const section = new RegExp(`^### ${iface}\\n([\\s\\S]*?)(?=^### |(?![\\s\\S]))`, 'm').exec(api)?.[1] ?? '';
    const props = [...section.matchAll(/^\| <a id="[^"]+"><\/a> `([A-Za-z0-9]+)\??`/gm)].map((m) => m[1]);
    expect(props.length).toBeGreaterThan(5);
    const rows = readFileSync(join(ROOT, 'packages', dir, 'README.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    expect(props.filter((p) => !rows.some((r) => r.split('|')[1].includes(`\`${p}\``)))).toEqual([]);
  });

  test('GIVEN .changeset/README.md THEN it names every package that is published', () => {
    const text = readFileSync(join(ROOT, '.changeset/README.md'), 'utf8');
    const missing = publishable
      .map(({ pkg }) => pkg.name.slice('@devcontainer-factory/'.length))
      .filter((short) => !text.includes(`\`${short}\``) && !text.includes(`/${short}\``));
    expect(missing).toEqual([]);
  });

  test.each(publishable.map(({ pkg }) => [pkg.name, pkg]))(
    'GIVEN %s THEN it ships src beside dist, as its source and declaration maps point into ../src',
    (_name, pkg) => {
      expect((pkg as PackageJson).files).toEqual(expect.arrayContaining(['dist', 'src']));
    },
  );

  test.each(publishable.map(({ pkg }) => [pkg.name, pkg]))('GIVEN %s THEN files excludes tsbuildinfo', (_name, pkg) => {
    const files = (pkg as PackageJson).files ?? [];
    expect(files.length).toBeGreaterThan(0);
    expect(files.some((f) => f.startsWith('!') && f.endsWith('.tsbuildinfo'))).toBe(true);
  });
});

const SCOPE = '@devcontainer-factory/';
/** Short names (`core`, `warehouse`, …; the app is `factory`) of the workspace packages a package.json field names. */
const workspaceDeps = (deps: Record<string, string> | undefined): string[] =>
  Object.keys(deps ?? {})
    .filter((n) => n.startsWith(SCOPE))
    .map((n) => n.slice(SCOPE.length))
    .sort();
const shortName = (pkg: PackageJson): string => pkg.name.slice(SCOPE.length);

describe('the package graph the README draws', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Packages'), readme.indexOf('## Working on the factory'));

  test('GIVEN the package table THEN each row names exactly the workspace packages the package depends on at run time', () => {
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('| ['))
      .map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((r) => /\[(.+?)\]/.exec(r[1])![1]).sort()).toEqual(packages.map(({ dir }) => dir.slice(ROOT.length + 1)).sort());
    for (const { dir, pkg } of packages) {
      const row = rows.find((r) => r[1].startsWith(`[${dir.slice(ROOT.length + 1)}]`))!;
      const named = row[4]
        .split(/[,()]/)
        .map((w) => w.trim())
        .filter((w) => packages.some(({ pkg: p }) => shortName(p) === w))
        .sort();
      expect({ package: pkg.name, dependsOn: named }).toEqual({ package: pkg.name, dependsOn: workspaceDeps(pkg.dependencies) });
    }
  });

  test('GIVEN the dependency picture THEN its edges are exactly the workspace dependencies, build-time ones included', () => {
    const alias = new Map([['factory[apps/factory]', 'factory']]);
    const edges = [...section.matchAll(/^\s+(\S+)\s+(?:-->|-\.[^.]*\.->)\s+(\S+)\s*$/gm)].map((m) => `${alias.get(m[1]) ?? m[1]} -> ${m[2]}`).sort();
    const expected = packages
      .flatMap(({ pkg }) => [...new Set([...workspaceDeps(pkg.dependencies), ...workspaceDeps(pkg.devDependencies)])].map((d) => `${shortName(pkg)} -> ${d}`))
      .sort();
    expect(edges).toEqual(expected);
  });

  test('GIVEN core THEN it depends on no AWS SDK, no CDK and no other workspace package, and no source file imports one', () => {
    const core = packages.find(({ pkg }) => pkg.name === `${SCOPE}core`)!;
    const deps = Object.keys({ ...core.pkg.dependencies, ...core.pkg.peerDependencies });
    expect(deps.filter((d) => /^@aws-sdk\/|^@smithy\/|^aws-cdk-lib$|^constructs$|^@devcontainer-factory\//.test(d))).toEqual([]);
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (/from '(@aws-sdk\/|aws-cdk-lib|constructs'|@devcontainer-factory\/)/.test(readFileSync(path, 'utf8'))) offenders.push(path);
      }
    };
    walk(join(core.dir, 'src'));
    expect(offenders).toEqual([]);
  });

  test('GIVEN lambdas THEN it has no run-time dependencies: the SDK and core are inputs of its bundles', () => {
    const lambdas = packages.find(({ pkg }) => pkg.name === `${SCOPE}lambdas`)!;
    expect(lambdas.pkg.dependencies ?? {}).toEqual({});
    expect(Object.keys(lambdas.pkg.devDependencies ?? {})).toEqual(expect.arrayContaining(['@aws-sdk/client-ecr', `${SCOPE}core`]));
  });
});
