/**
 * What grows with the catalogue stays inside CloudFormation's and CodePipeline's
 * limits, or synthesis refuses with the value and the rule; cfn-lint finds no
 * error in the templates of a catalogue at those limits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CatalogError, readCatalog } from '../src/catalog';
import { addFactory, factoryApp } from '../src/factory';
import { cfnLintErrors } from '@devcontainer-factory/testing';

const appRoot = resolve(__dirname, '..');
const id = (prefix: string, length: number) => `${prefix}${'x'.repeat(length - prefix.length)}`;
const temp: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temp.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

function catalogueFile(catalogue: object): string {
  const path = join(tempDir('dcf-limits-'), 'catalog.json');
  writeFileSync(path, JSON.stringify(catalogue));
  return path;
}

describe('catalogue limits', () => {
  test('a pipeline name over CodePipeline’s 100 characters is a catalogue error with the name, its length and the fix', () => {
    const namespace = id('n', 32);
    const imageId = id('i', 63);
    expect(() => readCatalog((key) => ({ namespace, images: imageId, features: '' })[key])).toThrow(CatalogError);
    expect(() => readCatalog((key) => ({ namespace, images: imageId, features: '' })[key])).toThrow(
      new RegExp(
        `pipeline name 'dcf-[0-9a-f]{12}-${namespace}-image-${imageId}', 119 characters long; CodePipeline allows 100: shorten the id to at most 44 characters`,
      ),
    );
  });

  test('a feature id at the limit with a long namespace is refused the same way', () => {
    expect(() => readCatalog((key) => ({ namespace: id('n', 32), images: '', features: id('f', 63) })[key])).toThrow(/CodePipeline allows 100/);
  });

  test('the longest names that fit are accepted, and one more character is refused', () => {
    // 100 characters: `dcf-` and 12 hex digits, `-`, the namespace, `-image-` or `-feature-`, the id.
    expect(readCatalog((key) => ({ namespace: id('n', 32), images: id('i', 44), features: id('f', 42), ecrPublicCache: 'false' })[key]).images).toHaveLength(1);
    expect(() => readCatalog((key) => ({ namespace: id('n', 32), images: id('i', 45), features: '', ecrPublicCache: 'false' })[key])).toThrow(
      /at most 44 characters/,
    );
    expect(() => readCatalog((key) => ({ namespace: id('n', 32), images: '', features: id('f', 43), ecrPublicCache: 'false' })[key])).toThrow(
      /at most 42 characters/,
    );
  });

  test('a base image whose releaseTags leave out latest is refused: its dependants build on latest', () => {
    const catalog = catalogueFile({
      images: [
        { id: 'base', releaseTags: ['semver'] },
        { id: 'app', dependsOn: ['base'] },
      ],
    });
    expect(() => readCatalog((key) => ({ catalog })[key])).toThrow(
      /image 'app' dependsOn 'base', whose releaseTags \[semver\] leave out 'latest'.*add 'latest' to the releaseTags of 'base'/,
    );
  });

  test('a base that releases latest among other tags is accepted', () => {
    const catalog = catalogueFile({
      images: [
        { id: 'base', releaseTags: ['latest', 'semver'] },
        { id: 'app', dependsOn: ['base'] },
      ],
    });
    expect(readCatalog((key) => ({ catalog })[key]).images.map((i) => i.id)).toEqual(['base', 'app']);
  });
});

describe('a catalogue with many bases', () => {
  test('15 bases with 40-character ids: synthesis refuses with the count, the length and CodePipeline’s limit, no stack trace', () => {
    const bases = Array.from({ length: 15 }, (_, i) => id(`base${i}-`, 40));
    const catalog = catalogueFile({ images: [...bases.map((b) => ({ id: b })), { id: 'app', dependsOn: bases }], features: [] });
    const run = spawnSync(join(appRoot, 'node_modules', '.bin', 'tsx'), ['src/main.ts'], {
      cwd: appRoot,
      encoding: 'utf8',
      env: { ...process.env, CDK_OUTDIR: tempDir('factory-limits-'), CDK_CONTEXT_JSON: JSON.stringify({ catalog }) },
    });
    expect(run.stderr).toMatch(
      /^Error: bad catalogue: devcontainers-image-app\/ImagePipeline: dependsOn of devcontainers\/images\/app names 15 base images, .* parameters \d+ characters long; CodePipeline allows 1000/m,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(1);
  });

  test('12 bases with 12-character ids synthesize, the trigger description stays short, and cfn-lint finds no error', () => {
    const bases = Array.from({ length: 12 }, (_, i) => id(`b${i}-`, 12));
    const catalog = readCatalog((key) => ({ images: [...bases, 'app'].join(','), features: 'hello' })[key]);
    const withBases = { ...catalog, images: catalog.images.map((i) => (i.id === 'app' ? { ...i, dependsOn: bases } : i)) };
    const outdir = tempDir('factory-cfnlint-');
    const app = factoryApp({ outdir });
    addFactory(app, withBases, { env: { account: '123456789012', region: 'eu-west-1' } });
    const assembly = app.synth();

    const appStack = assembly.getStackByName('devcontainers-image-app');
    const rules = Template.fromJSON(appStack.template).findResources('AWS::Events::Rule');
    for (const rule of Object.values(rules)) expect(String(rule.Properties.Description).length).toBeLessThanOrEqual(512);

    const templates = assembly.stacks.map((s) => join(outdir, s.templateFile));
    expect(cfnLintErrors(templates)).toEqual([]);
  }, 180_000);
});

describe('CloudFormation schema validation', () => {
  test('a schema error fails synthesis of the factory app instead of warning', () => {
    const app = factoryApp({ outdir: tempDir('factory-schema-') });
    new CfnResource(new Stack(app, 'Bad'), 'Queue', { type: 'AWS::SQS::Queue', properties: { DelaySeconds: 'soon' } });
    expect(() => app.synth()).toThrow(/ERROR DelaySeconds: 'soon' is not of type 'integer' \(CloudFormation Validate\)/);
  });

  test('the example catalogue synthesizes with no finding under it', () => {
    const outdir = tempDir('factory-schema-');
    const app = factoryApp({ outdir });
    addFactory(
      app,
      readCatalog((key) => ({ images: 'python,node', features: 'hello' })[key]),
      { env: { account: '123456789012', region: 'eu-west-1' } },
    );
    expect(() => app.synth()).not.toThrow();
  }, 120_000);
});
