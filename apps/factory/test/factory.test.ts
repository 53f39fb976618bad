import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readCatalog } from '../src/catalog';
import { addFactory } from '../src/factory';
import { repositoryWriters } from './support/iam';

const appRoot = join(__dirname, '..');

// Every synthesis writes a cloud assembly into a temp folder of its own, removed after the file's tests.
const outdirs: string[] = [];
const tempOutdir = (prefix: string) => (outdirs.push(mkdtempSync(join(tmpdir(), prefix))), outdirs[outdirs.length - 1]);
afterAll(() => outdirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

// The feature flags of cdk.json, as `cdk synth` sees them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdkJsonContext: Record<string, unknown> = require('../cdk.json').context;

function synthFactory(context: Record<string, unknown>) {
  const app = new App({ outdir: tempOutdir('factory-'), context: cdkJsonContext });
  // A concrete account and region, as in a real deploy: findings must be acknowledged either way.
  const stacks = addFactory(
    app,
    readCatalog((k) => context[k]),
    { env: { account: '123456789012', region: 'eu-west-1' } },
  );
  // Synthesis runs cdk-nag's AwsSolutionsChecks and throws on any unacknowledged finding.
  const assembly = app.synth();
  return { app, stacks, assembly };
}

describe('the factory app', () => {
  // One synthesis shared by the assertions below: it is the expensive part.
  let result: ReturnType<typeof synthFactory>;
  beforeAll(() => {
    result = synthFactory({ namespace: 'acme', images: 'python,node', features: 'hello,world' });
  });

  test('has the warehouse and one pipeline stack per image and feature, named by namespace and id', () => {
    expect(result.assembly.stacks.map((s) => s.stackName).sort()).toEqual(
      ['acme-feature-hello', 'acme-feature-world', 'acme-image-node', 'acme-image-python', 'acme-warehouse'].sort(),
    );
  });

  test('pipeline stacks deploy after the warehouse and import nothing from it', () => {
    for (const stack of result.assembly.stacks) {
      if (stack.stackName === 'acme-warehouse') continue;
      expect(stack.dependencies.map((d) => d.id)).toContain('acme-warehouse');
      expect(JSON.stringify(stack.template)).not.toContain('Fn::ImportValue');
    }
    expect(Object.keys(result.assembly.getStackByName('acme-warehouse').template.Outputs ?? {})).toHaveLength(4);
  });

  test("in every stack of the app, no role but the image pipeline's Release function can write a release repository <ns>/images/<id>", () => {
    const templates = Object.fromEntries(result.assembly.stacks.map((s) => [s.stackName, s.template]));
    for (const id of ['python', 'node']) {
      const writers = repositoryWriters(templates, `acme/images/${id}`);
      expect(writers).toHaveLength(1);
      expect(writers[0]).toMatch(new RegExp(`^acme-image-${id}/ImagePipelineReleaseFunctionRole[0-9A-F]{8}$`));
    }
    // Build (per-arch images, caches) and Manifest (the index) write staging, and nobody else.
    expect(
      repositoryWriters(templates, 'acme/builds/python')
        .map((w) => w.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual(['acme-image-python/ImagePipelineBuildRole', 'acme-image-python/ImagePipelineManifestFunctionRole']);
  });

  test("every role allowed to push to a release or feature repository is under the writer path that the repository's creation template admits, so its own writers are never denied", () => {
    const templates = Object.fromEntries(result.assembly.stacks.map((s) => [s.stackName, s.template]));
    const warehouse = Object.values(templates['acme-warehouse'].Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>);
    const admitted = (prefix: string) => {
      const template = warehouse.find((r) => r.Type === 'AWS::ECR::RepositoryCreationTemplate' && r.Properties.Prefix === prefix)!;
      const policy = JSON.stringify(template.Properties.RepositoryPolicy);
      return /:role(\/[^*"]+\/)\*/.exec(policy)?.[1];
    };
    const pathOf = (writer: string) => {
      const [stack, logicalId] = writer.split('/');
      return (templates[stack].Resources as Record<string, { Properties: { Path?: string } }>)[logicalId].Properties.Path;
    };
    for (const [repository, prefix, path] of [
      ['acme/images/python', 'acme/images', '/devcontainer-factory/acme/image-release/'],
      ['acme/images/node', 'acme/images', '/devcontainer-factory/acme/image-release/'],
      ['acme/features/hello', 'acme/features', '/devcontainer-factory/acme/feature-publish/'],
      ['acme/features/world', 'acme/features', '/devcontainer-factory/acme/feature-publish/'],
    ]) {
      expect(admitted(prefix)).toBe(path);
      const writers = repositoryWriters(templates, repository);
      expect(writers).toHaveLength(1);
      expect({ repository, path: pathOf(writers[0]) }).toEqual({ repository, path });
    }
  });

  test('the warehouse keeps termination protection on', () => {
    expect(result.stacks.warehouse.terminationProtection).toBe(true);
  });

  test('each image pipeline starts on its own key only', () => {
    const template = Template.fromJSON(result.assembly.getStackByName('acme-image-python').template);
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    const keys = JSON.stringify(rules.map((r) => r.Properties.EventPattern));
    expect(keys).toContain('acme/images/python.zip');
    expect(keys).not.toContain('acme/images/node.zip');
  });
});

describe('the cdk app entry point', () => {
  function runApp(context: Record<string, unknown>) {
    const outdir = tempOutdir('factory-main-');
    return spawnSync(join(appRoot, 'node_modules', '.bin', 'tsx'), ['src/main.ts'], {
      cwd: appRoot,
      encoding: 'utf8',
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
    });
  }

  test('a bad image id fails synthesis with the value and the rule, without a stack trace', () => {
    const run = runApp({ images: 'Python' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("image id 'Python' is invalid: use lowercase letters, digits and '-'");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  test('an empty catalogue synthesizes the warehouse alone', () => {
    const run = runApp({ images: '', features: '' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
