import { pipelineName } from '@devcontainer-factory/core';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FailureTopic, Warehouse } from '@devcontainer-factory/warehouse';
import { ACTION_EXECUTION_STATE_CHANGE } from '../src';
import { withUploadPipeline } from './support/smallest-upload-pipeline';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function failureRules(template: Template) {
  return Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { 'detail-type': [ACTION_EXECUTION_STATE_CHANGE] } } }));
}

describe('the failure rule of an upload pipeline', () => {
  // GIVEN a pipeline on the warehouse of a namespace, found by its parameters
  const app = new App();
  const stack = new Stack(app, 'acme-feature-hello', { env: ENV });
  const { failureRule } = withUploadPipeline(stack, Warehouse.fromNamespace(stack, 'Warehouse', 'acme'));
  const template = Template.fromStack(stack);

  test('matches the FAILED action state changes of this pipeline only', () => {
    expect(failureRule).toBeDefined();
    const rules = failureRules(template);
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.EventPattern).toEqual({
      source: ['aws.codepipeline'],
      'detail-type': ['CodePipeline Action Execution State Change'],
      detail: { pipeline: [pipelineName('acme', 'feature', 'hello')], state: ['FAILED'], stage: [{ 'anything-but': ['Source'] }] },
    });
  });

  test('targets the failure topic of the warehouse parameter /<ns>/factory/failure-topic-arn, with no role and no grant on the topic', () => {
    const parameters = template.toJSON().Parameters as Record<string, { Default: string }>;
    const [parameter] = Object.entries(parameters).find(([, p]) => p.Default === '/acme/factory/failure-topic-arn')!;
    const [target] = failureRules(template)[0].Properties.Targets;
    expect(target.Arn).toEqual({ Ref: parameter });
    expect(target.RoleArn).toBeUndefined();
    template.resourceCountIs('AWS::SNS::TopicPolicy', 0);
  });

  test('sends the pipeline, execution, stage, action and the summary the action reported', () => {
    const [target] = failureRules(template)[0].Properties.Targets;
    expect(target.InputTransformer.InputPathsMap).toEqual({
      'detail-pipeline': '$.detail.pipeline',
      'detail-stage': '$.detail.stage',
      'detail-action': '$.detail.action',
      'detail-execution-id': '$.detail.execution-id',
      'detail-execution-result-external-execution-summary': '$.detail.execution-result.external-execution-summary',
      'detail-execution-result-error-code': '$.detail.execution-result.error-code',
      'detail-execution-result-external-execution-url': '$.detail.execution-result.external-execution-url',
      account: '$.account',
      region: '$.region',
      time: '$.time',
    });
    const message = target.InputTransformer.InputTemplate as string;
    expect(message).toContain('"message":"devcontainer-factory: the feature pipeline <detail-pipeline> failed in <detail-stage> / <detail-action>"');
    // Values that may hold quotes or line breaks are inserted as JSON values, escaped by EventBridge.
    const fields = {
      pipeline: 'detail-pipeline',
      executionId: 'detail-execution-id',
      stage: 'detail-stage',
      action: 'detail-action',
      summary: 'detail-execution-result-external-execution-summary',
      errorCode: 'detail-execution-result-error-code',
      externalUrl: 'detail-execution-result-external-execution-url',
    };
    for (const [key, variable] of Object.entries(fields)) expect(message).toContain(`"${key}":<${variable}>`);
    expect(message).toContain('"kind":"feature","id":"hello"');
  });

  test('is clean under cdk-nag AwsSolutionsChecks', () => {
    const nagApp = new App();
    const nagStack = new Stack(nagApp, 'Nag', { env: ENV });
    withUploadPipeline(nagStack, Warehouse.fromNamespace(nagStack, 'Warehouse', 'acme'));
    Validations.of(nagApp).addPlugins(new AwsSolutionsChecks(nagApp));
    expect(() => nagApp.synth()).not.toThrow();
  });
});

describe('an upload pipeline on resources of its own', () => {
  const ownResources = (stack: Stack, failureTopic?: FailureTopic) =>
    Warehouse.fromWarehouseAttributes(stack, 'Resources', {
      namespace: 'acme',
      sourceBucket: s3.Bucket.fromBucketName(stack, 'Source', 'src'),
      artifactBucket: s3.Bucket.fromBucketName(stack, 'Artifacts', 'art'),
      s3Key: new FailureTopic(stack, 'KeyOwner').encryptionKey,
      ...(failureTopic && { failureTopic: failureTopic.topic }),
    });

  test('GIVEN no failure topic THEN it has no failure rule', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    expect(withUploadPipeline(stack, ownResources(stack)).failureRule).toBeUndefined();
    expect(failureRules(Template.fromStack(stack))).toHaveLength(0);
  });

  test('GIVEN a topic of the app THEN the rule targets it and its policy holds EventBridge to rules of this account', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const failures = new FailureTopic(stack, 'Failures');
    withUploadPipeline(stack, ownResources(stack, failures));
    const template = Template.fromStack(stack);
    expect(failureRules(template)[0].Properties.Targets[0].Arn.Ref).toMatch(/^FailuresTopic/);
    const policy = Object.values(
      template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [{ Ref: Match.stringLikeRegexp('^FailuresTopic') }] } }),
    );
    const events = policy[0].Properties.PolicyDocument.Statement.filter(
      (s: { Principal?: { Service?: string } }) => s.Principal?.Service === 'events.amazonaws.com',
    );
    expect(events).toHaveLength(1);
    expect(events[0].Condition.StringEquals).toEqual({ 'aws:SourceAccount': '123456789012' });
  });
});
