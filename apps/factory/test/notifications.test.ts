/**
 * Failures reach someone: `-c notify=…` subscribes email addresses and https:// URLs to
 * the namespace's failure topic, each pipeline sends its failed actions there and each
 * image's retention its errors; the templates stay clean under cdk-nag and cfn-lint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { pipelineName } from '@devcontainer-factory/core';
import { CatalogError, readCatalog } from '../src/catalog';
import { addFactory, factoryApp } from '../src/factory';
import { cfnLintErrors } from '@devcontainer-factory/testing';

const context = (values: Record<string, unknown>) => (key: string) => values[key];
const outdirs: string[] = [];
afterAll(() => outdirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('-c notify', () => {
  test('is a comma-separated list of email addresses and https:// URLs, spaces ignored', () => {
    expect(readCatalog(context({ notify: 'platform@example.com, https://hooks.example.com/factory' })).notify).toEqual([
      'platform@example.com',
      'https://hooks.example.com/factory',
    ]);
    expect(readCatalog(context({ notify: ['platform@example.com'] })).notify).toEqual(['platform@example.com']);
  });

  test('left out, or empty, subscribes nobody', () => {
    expect(readCatalog(context({})).notify).toBeUndefined();
    expect(readCatalog(context({ notify: '' })).notify).toBeUndefined();
  });

  test.each<[unknown, RegExp]>([
    [
      'platform',
      /^-c notify: 'platform' is neither an email address \(name@example.com\) nor an https:\/\/ URL, e.g. -c notify=platform@example.com,https:\/\/hooks.example.com\/factory$/,
    ],
    [
      'http://hooks.example.com/factory',
      /^-c notify: 'http:\/\/hooks.example.com\/factory' is not an https:\/\/ URL: SNS would send the failures in clear text/,
    ],
    ['a@example.com,a@example.com', /^-c notify: 'a@example.com' is named more than once/],
    [42, /^-c notify must be a comma-separated list of email addresses and https:\/\/ URLs, got 42$/],
  ])('refuses %j with a CatalogError that says what to pass', (notify, message) => {
    expect(() => readCatalog(context({ notify }))).toThrow(CatalogError);
    expect(() => readCatalog(context({ notify }))).toThrow(message);
  });
});

describe('the factory app with -c notify', () => {
  let outdir: string;
  let assembly: ReturnType<ReturnType<typeof factoryApp>['synth']>;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'factory-notify-'));
    outdirs.push(outdir);
    const app = factoryApp({ outdir });
    addFactory(
      app,
      readCatalog(context({ namespace: 'acme', images: 'python', features: 'hello', notify: 'platform@example.com,https://hooks.example.com/factory' })),
      {
        env: { account: '123456789012', region: 'eu-west-1' },
      },
    );
    // Synthesis runs cdk-nag's AwsSolutionsChecks over the whole app and throws on any unacknowledged finding.
    assembly = app.synth();
  }, 180_000);

  test('the warehouse has one encrypted failure topic, both endpoints subscribed, and names it in /acme/factory/failure-topic-arn', () => {
    const warehouse = Template.fromJSON(assembly.getStackByName('acme-warehouse').template);
    warehouse.resourceCountIs('AWS::SNS::Topic', 1);
    warehouse.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    warehouse.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'platform@example.com' });
    warehouse.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', Endpoint: 'https://hooks.example.com/factory' });
    warehouse.hasResourceProperties('AWS::SSM::Parameter', { Name: '/acme/factory/failure-topic-arn' });
  });

  test('every pipeline sends its failed actions to that topic, and the image retention its errors', () => {
    for (const [stackName, pipeline] of [
      ['acme-image-python', pipelineName('acme', 'image', 'python')],
      ['acme-feature-hello', pipelineName('acme', 'feature', 'hello')],
    ]) {
      const template = Template.fromJSON(assembly.getStackByName(stackName).template);
      const parameters = template.toJSON().Parameters as Record<string, { Default: string }>;
      const [topic] = Object.entries(parameters).find(([, p]) => p.Default === '/acme/factory/failure-topic-arn')!;
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.codepipeline'],
          'detail-type': ['CodePipeline Action Execution State Change'],
          detail: { pipeline: [pipeline], state: ['FAILED'], stage: [{ 'anything-but': ['Source'] }] },
        },
        Targets: [Match.objectLike({ Arn: { Ref: topic } })],
      });
      if (stackName.includes('-image-')) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topic }], TreatMissingData: 'notBreaching' });
        template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
          MaximumRetryAttempts: 0,
          DestinationConfig: { OnFailure: { Destination: { Ref: topic } } },
        });
      }
    }
  });

  test('cfn-lint finds no error in the templates', () => {
    const templates = assembly.stacks.map((s) => join(outdir, s.templateFile));
    expect(cfnLintErrors(templates)).toEqual([]);
  }, 180_000);
});
