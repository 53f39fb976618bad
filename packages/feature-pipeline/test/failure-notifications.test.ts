import { pipelineName } from '@devcontainer-factory/core';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FailureTopic, Warehouse } from '@devcontainer-factory/warehouse';
import { FeaturePipeline, FeaturePipelinePropsError, FeaturePipelineStack } from '../src';

// Where a feature pipeline's failures go: each failed action, e.g. Publish refusing a changed feature whose version was not bumped.

const ENV = { account: '123456789012', region: 'eu-west-1' };

describe('a FeaturePipelineStack', () => {
  // GIVEN the stack the factory app deploys
  const app = new App();
  const stack = new FeaturePipelineStack(app, undefined, { namespace: 'acme', featureId: 'hello', env: ENV });
  const template = Template.fromStack(stack);

  test('sends every failed action to the failure topic of the warehouse parameter /<ns>/factory/failure-topic-arn', () => {
    const parameters = template.toJSON().Parameters as Record<string, { Default: string }>;
    const [parameter] = Object.entries(parameters).find(([, p]) => p.Default === '/acme/factory/failure-topic-arn')!;
    expect(stack.featurePipeline.failureRule).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Action Execution State Change'],
        detail: { pipeline: [pipelineName('acme', 'feature', 'hello')], state: ['FAILED'], stage: [{ 'anything-but': ['Source'] }] },
      },
      Targets: [
        Match.objectLike({
          Arn: { Ref: parameter },
          InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('"kind":"feature","id":"hello"') }),
        }),
      ],
    });
  });

  test('is clean under cdk-nag AwsSolutionsChecks', () => {
    const nagApp = new App();
    new FeaturePipelineStack(nagApp, undefined, { namespace: 'acme', featureId: 'hello', env: ENV });
    Validations.of(nagApp).addPlugins(new AwsSolutionsChecks(nagApp));
    expect(() => nagApp.synth()).not.toThrow();
  });
});

describe('a FeaturePipeline on resources of its own', () => {
  function ownStack() {
    const stack = new Stack(new App(), 'Team', { env: ENV });
    const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    return { stack, sourceBucket: new s3.Bucket(stack, 'Source', { encryptionKey, versioned: true }) };
  }

  test('GIVEN a failureTopic THEN failed actions go to it; without one, nowhere', () => {
    const withTopic = ownStack();
    const failures = new FailureTopic(withTopic.stack, 'Failures');
    new FeaturePipeline(withTopic.stack, 'Hello', {
      featureId: 'hello',
      namespace: 'team',
      sourceBucket: withTopic.sourceBucket,
      failureTopic: failures.topic,
    });
    Template.fromStack(withTopic.stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ pipeline: [pipelineName('team', 'feature', 'hello')], state: ['FAILED'] }) }),
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^FailuresTopic') } })],
    });

    const without = ownStack();
    expect(
      new FeaturePipeline(without.stack, 'Hello', { featureId: 'hello', namespace: 'team', sourceBucket: without.sourceBucket }).failureRule,
    ).toBeUndefined();
  });

  test('GIVEN both a warehouse and a failureTopic THEN it refuses, saying to pass one', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const failures = new FailureTopic(stack, 'Failures');
    const make = () =>
      new FeaturePipeline(stack, 'Hello', { featureId: 'hello', warehouse: Warehouse.fromNamespace(stack, 'Warehouse', 'acme'), failureTopic: failures.topic });
    expect(make).toThrow(FeaturePipelinePropsError);
  });
});
