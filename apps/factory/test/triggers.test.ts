/**
 * The app's image pipelines start on more than an upload: a scheduled refresh per
 * image (`refresh`, weekly by default) and a push of a tag of a catalogue feature the
 * image uses (`usesFeatures`). The app stays clean under cdk-nag and cfn-lint.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { Template } from 'aws-cdk-lib/assertions';
import { CatalogError, readCatalog } from '../src/catalog';
import { addFactory, factoryApp } from '../src/factory';
import { pipelineName } from '@devcontainer-factory/core';
import { cfnLintErrors } from '@devcontainer-factory/testing';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdkJsonContext: Record<string, unknown> = require('../cdk.json').context;

const temp: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temp.push(dir);
  return dir;
}
afterAll(() => temp.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function catalogueFile(catalogue: object): string {
  const path = join(tempDir('dcf-triggers-'), 'catalog.json');
  writeFileSync(path, JSON.stringify(catalogue));
  return path;
}

const template = (assembly: CloudAssembly, stackName: string) => Template.fromJSON(assembly.getStackByName(stackName).template);
const ecrRules = (t: Template) => Object.values(t.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern?.source?.[0] === 'aws.ecr');

describe('triggers of the factory app', () => {
  let outdir: string;
  let assembly: CloudAssembly;
  beforeAll(() => {
    // GIVEN a catalogue with an image of each kind: default refresh, daily and using a feature, off
    const catalog = catalogueFile({
      images: ['python', 'node', { id: 'app', refresh: 'daily', usesFeatures: ['hello'] }, { id: 'frozen', refresh: 'off' }],
      features: ['hello', 'world'],
    });
    outdir = tempDir('factory-triggers-');
    const app = factoryApp({ outdir, context: cdkJsonContext });
    addFactory(
      app,
      readCatalog((key) => ({ catalog })[key]),
      { env: { account: '123456789012', region: 'eu-west-1' } },
    );
    // WHEN synthesized (addFactory runs cdk-nag's AwsSolutionsChecks: an unacknowledged finding throws here)
    assembly = app.synth();
  }, 180_000);

  test('every image without refresh gets the weekly schedule of its own pipeline', () => {
    for (const id of ['python', 'node']) {
      const t = template(assembly, `devcontainers-image-${id}`);
      t.resourceCountIs('AWS::Scheduler::Schedule', 1);
      t.hasResourceProperties('AWS::Scheduler::Schedule', {
        Name: `${pipelineName('devcontainers', 'image', id)}-refresh`,
        ScheduleExpression: 'rate(7 days)',
        ScheduleExpressionTimezone: 'Etc/UTC',
        // A random point of a 4-hour window: the pipelines of one deploy do not all start at once.
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 240 },
      });
      const [schedule] = Object.values(t.findResources('AWS::Scheduler::Schedule'));
      const [pipelineId] = Object.keys(t.findResources('AWS::CodePipeline::Pipeline'));
      expect(JSON.stringify(schedule.Properties.Target.Arn)).toContain(`{"Ref":"${pipelineId}"}`);
    }
  });

  test('refresh: daily is passed through, and refresh: off creates no schedule', () => {
    template(assembly, 'devcontainers-image-app').hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: `${pipelineName('devcontainers', 'image', 'app')}-refresh`,
      ScheduleExpression: 'rate(1 day)',
    });
    template(assembly, 'devcontainers-image-frozen').resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  test('usesFeatures: [hello] starts the image pipeline on a push of any tag of <ns>/features/hello, and only that image', () => {
    const [rule, ...others] = ecrRules(template(assembly, 'devcontainers-image-app'));
    expect(others).toEqual([]);
    expect(rule.Properties.EventPattern.detail).toEqual({ 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': ['devcontainers/features/hello'] });
    expect(ecrRules(template(assembly, 'devcontainers-image-python'))).toEqual([]);
  });

  test('feature stacks get neither a schedule nor a feature rule', () => {
    for (const id of ['hello', 'world']) {
      const t = template(assembly, `devcontainers-feature-${id}`);
      t.resourceCountIs('AWS::Scheduler::Schedule', 0);
      expect(ecrRules(t)).toEqual([]);
    }
  });

  test('cfn-lint finds no error in any template', () => {
    const templates = assembly.stacks.map((s) => join(outdir, s.templateFile));
    expect(cfnLintErrors(templates)).toEqual([]);
  }, 180_000);
});

describe('usesFeatures in the catalogue', () => {
  test('a feature the catalogue does not have is a catalogue error naming the image, the feature and the fix', () => {
    const catalog = catalogueFile({ images: [{ id: 'app', usesFeatures: ['hello', 'missing'] }], features: ['hello'] });
    const read = () => readCatalog((key) => ({ catalog })[key]);
    expect(read).toThrow(CatalogError);
    expect(read).toThrow(
      `image 'app' usesFeatures unknown feature 'missing', which is not a feature of -c features=… or the catalogue file ${catalog}: add it to features or remove it from usesFeatures (known: hello)`,
    );
  });

  test('a feature named only in context counts as a catalogue feature', () => {
    const catalog = catalogueFile({ images: [{ id: 'app', usesFeatures: ['greeter'] }] });
    expect(readCatalog((key) => ({ catalog, features: 'greeter' })[key]).images).toEqual([{ id: 'app', usesFeatures: ['greeter'] }]);
  });

  test('with -c features= leaving a used feature out, the error names the context too', () => {
    const catalog = catalogueFile({ images: [{ id: 'app', usesFeatures: ['hello'] }] });
    expect(() => readCatalog((key) => ({ catalog, features: '' })[key])).toThrow(
      /usesFeatures unknown feature 'hello', which is not a feature of -c features=… or the catalogue file .*\(known: none\)$/,
    );
  });
});
