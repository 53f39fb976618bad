/**
 * The GitHub workflows of the repository: CI checks what a change affects with the
 * same targets as scripts/dev.sh, and Release versions and publishes through
 * changesets with no more permissions than that needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The yaml parser the workspace already has (a dependency of the lambdas package).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse } = require(require.resolve('yaml', { paths: [require.resolve('@devcontainer-factory/core')] })) as { parse: (text: string) => unknown };

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}
interface Workflow {
  readonly name: string;
  readonly on: Record<string, { branches?: string[]; workflows?: string[]; types?: string[] } | null>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, { readonly if?: string; readonly permissions?: Record<string, string>; readonly steps: readonly Step[] }>;
}

const root = join(__dirname, '..', '..', '..');
const workflow = (name: string) => parse(readFileSync(join(root, '.github', 'workflows', name), 'utf8')) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((job) => job.steps);
const runs = (w: Workflow) => steps(w).flatMap((s) => (s.run ? [s.run] : []));
const uses = (w: Workflow, action: string) => steps(w).filter((s) => s.uses?.startsWith(`${action}@`));

describe('ci.yml', () => {
  const ci = workflow('ci.yml');

  test('runs on pull requests and on pushes to main', () => {
    expect(ci.on).toHaveProperty('pull_request');
    expect(ci.on.push?.branches).toEqual(['main']);
  });

  test('checks out the whole history, so that Nx finds the base commit', () => {
    expect(uses(ci, 'actions/checkout')[0].with?.['fetch-depth']).toBe(0);
  });

  test('uses Node 20 and the pnpm of packageManager', () => {
    expect(uses(ci, 'actions/setup-node')[0].with?.['node-version']).toBe(20);
    // pnpm/action-setup without a version reads packageManager from package.json.
    expect(uses(ci, 'pnpm/action-setup')[0].with?.version).toBeUndefined();
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager).toMatch(/^pnpm@/);
  });

  test('installs the system packages that scripts/dev.sh installs', () => {
    const devSh = readFileSync(join(root, 'scripts', 'dev.sh'), 'utf8');
    const packages = /SYSTEM_PACKAGES=\(([^)]*)\)/.exec(devSh)?.[1].trim().split(/\s+/) ?? [];
    expect(packages.length).toBeGreaterThan(0);
    const apt = runs(ci).find((r) => r.includes('apt-get install'));
    for (const p of packages) expect(apt).toMatch(new RegExp(`\\s${p}(\\s|$)`));
  });

  test('installs from the lockfile only', () => {
    expect(runs(ci)).toContain('pnpm install --frozen-lockfile');
  });

  test('runs lint, typecheck, test and publint of the affected projects between the base and head that nx-set-shas computes', () => {
    const setShas = steps(ci).findIndex((s) => s.uses?.startsWith('nrwl/nx-set-shas@'));
    const affected = steps(ci).findIndex((s) => s.run?.includes('nx affected'));
    expect(setShas).toBeGreaterThanOrEqual(0);
    expect(affected).toBeGreaterThan(setShas);
    const command = steps(ci)[affected].run ?? '';
    expect(command).toMatch(/^pnpm exec nx affected -t lint typecheck test publint /);
    expect(command).toContain('--base=$NX_BASE');
    expect(command).toContain('--head=$NX_HEAD');
  });

  test('runs the README test command on pushes to main only', () => {
    const full = steps(ci).find((s) => s.run === 'bash scripts/dev.sh test');
    expect(full?.if).toMatch(/github\.event_name == 'push'/);
    expect(full?.if).toMatch(/refs\/heads\/main/);
  });

  test('can only read the repository', () => {
    expect(ci.permissions).toEqual({ contents: 'read', actions: 'read' });
  });
});

describe('release.yml', () => {
  const release = workflow('release.yml');
  const ci = workflow('ci.yml');

  test('runs only after CI passed on a push to main, on the commit CI tested', () => {
    expect(Object.keys(release.on)).toEqual(['workflow_run']);
    expect(release.on.workflow_run).toEqual({ workflows: [ci.name], types: ['completed'], branches: ['main'] });
    const [job] = Object.values(release.jobs);
    expect(job.if).toContain("github.event.workflow_run.conclusion == 'success'");
    expect(job.if).toContain("github.event.workflow_run.event == 'push'");
    const [checkout] = uses(release, 'actions/checkout');
    expect(checkout.with?.ref).toBe('${{ github.event.workflow_run.head_sha }}');
  });

  test('refuses to publish packages whose repository is not the one it runs in (npm provenance would)', () => {
    const check = steps(release).find((s) => s.name === 'The packages name this repository');
    expect(check?.run).toContain('${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}');
    const all = steps(release);
    expect(all.indexOf(check!)).toBeLessThan(all.findIndex((s) => s.uses?.startsWith('changesets/action@')));
  });

  test('opens the version pull request or publishes with changesets, with the npm token and provenance', () => {
    const [action] = uses(release, 'changesets/action');
    expect(action.with?.publish).toBe('pnpm changeset publish');
    expect(action.with?.version).toBe('pnpm changeset version');
    expect(action.env?.NPM_TOKEN).toBe('${{ secrets.NPM_TOKEN }}');
    expect(action.env?.NPM_CONFIG_PROVENANCE).toBe('true');
  });

  test('builds from the lockfile before publishing', () => {
    const all = steps(release);
    const publish = all.findIndex((s) => s.uses?.startsWith('changesets/action@'));
    expect(all.findIndex((s) => s.run === 'pnpm install --frozen-lockfile')).toBeLessThan(publish);
    expect(all.findIndex((s) => s.run?.includes('nx run-many -t build'))).toBeLessThan(publish);
  });

  test('asks for the minimal permissions: push the version commit, open its pull request, sign provenance', () => {
    expect(release.permissions).toEqual({ contents: 'write', 'pull-requests': 'write', 'id-token': 'write' });
    for (const job of Object.values(release.jobs)) expect(job.permissions).toBeUndefined();
  });
});
