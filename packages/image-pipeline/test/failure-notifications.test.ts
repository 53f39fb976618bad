import { pipelineName } from '@devcontainer-factory/core';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { FailureTopic, Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, ImageRetention } from '../src';

// Where an image pipeline's failures go: each failed action (a refused release among them), and retention's errors.

const ENV = { account: '123456789012', region: 'eu-west-1' };
const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

/** The logical id of the CloudFormation parameter that reads the SSM parameter `name`. */
function ssmParameter(template: Template, name: string): string {
  const parameters = template.toJSON().Parameters as Record<string, { Default: string }>;
  return Object.entries(parameters).find(([, p]) => p.Default === name)![0];
}

describe('an ImagePipeline on the warehouse of a namespace', () => {
  // GIVEN the pipeline as the factory app builds it
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const imagePipeline = new ImagePipeline(stack, 'Python', { warehouse: Warehouse.fromNamespace(stack, 'Warehouse', 'acme'), imageId: 'python' });
  const template = Template.fromStack(stack);
  const topicArn = () => ({ Ref: ssmParameter(template, '/acme/factory/failure-topic-arn') });

  test('sends every failed action of the pipeline, Release (the vulnerability gate) included, to the failure topic', () => {
    expect(imagePipeline.failureRule).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Action Execution State Change'],
        // Every stage after Source, Release among them: a refused release fails the Release action with the refusal as its summary.
        detail: { pipeline: [pipelineName('acme', 'image', 'python')], state: ['FAILED'], stage: [{ 'anything-but': ['Source'] }] },
      },
      Targets: [
        Match.objectLike({
          Arn: topicArn(),
          InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('"summary":<detail-execution-result-external-execution-summary>') }),
        }),
      ],
    });
  });

  test('alarms on retention errors and throttles into the failure topic, with no data not breaching', () => {
    const alarm = imagePipeline.retention!.failureAlarm!;
    expect(alarm).toBeDefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicArn()],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(errors, 0) + FILL(throttles, 0)', ReturnData: true }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'Errors',
              Namespace: 'AWS/Lambda',
              Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(imagePipeline.retention!.function) } }],
            }),
            Stat: 'Sum',
            Period: 300,
          }),
          ReturnData: false,
        }),
        Match.objectLike({
          Id: 'throttles',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Throttles', Namespace: 'AWS/Lambda' }), Stat: 'Sum' }),
          ReturnData: false,
        }),
      ]),
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
  });

  test('sends a failed scheduled retention run to the failure topic, without retrying it, and lets the function publish there', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(imagePipeline.retention!.function) },
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: topicArn() } },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalId(imagePipeline.retention!.role) }] } }));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ Action: 'sns:Publish', Effect: 'Allow', Resource: topicArn() })]));
    // The pipeline's job functions report to CodePipeline; only retention has an on-failure destination.
    expect(Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).filter((c) => c.Properties.DestinationConfig)).toHaveLength(1);
  });
});

describe('an ImagePipeline on resources of its own', () => {
  function teamStack() {
    const stack = new Stack(new App(), 'Team', { env: ENV });
    const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const sourceBucket = new s3.Bucket(stack, 'Source', { encryptionKey, versioned: true, enforceSSL: true, serverAccessLogsPrefix: 'access-logs/' });
    const repository = new ecr.Repository(stack, 'Repository', { repositoryName: 'team/images/python' });
    return { stack, sourceBucket, repository };
  }

  test('GIVEN no failureTopic THEN nothing is sent: no failure rule, no alarm, no on-failure destination', () => {
    const team = teamStack();
    const imagePipeline = new ImagePipeline(team.stack, 'Python', {
      imageId: 'python',
      namespace: 'team',
      sourceBucket: team.sourceBucket,
      repository: team.repository,
    });
    const template = Template.fromStack(team.stack);
    expect(imagePipeline.failureRule).toBeUndefined();
    expect(imagePipeline.retention!.failureAlarm).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).filter((c) => c.Properties.DestinationConfig)).toEqual([]);
  });

  test('GIVEN a FailureTopic THEN failed actions and retention errors go to it', () => {
    const team = teamStack();
    const failures = new FailureTopic(team.stack, 'Failures', { namespace: 'team' });
    new ImagePipeline(team.stack, 'Python', {
      imageId: 'python',
      namespace: 'team',
      sourceBucket: team.sourceBucket,
      repository: team.repository,
      failureTopic: failures.topic,
    });
    const template = Template.fromStack(team.stack);
    const topic = { Ref: logicalId(failures.topic) };
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ pipeline: [pipelineName('team', 'image', 'python')], state: ['FAILED'] }) }),
      Targets: [Match.objectLike({ Arn: topic })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [topic] });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { DestinationConfig: { OnFailure: { Destination: topic } } });
  });

  test('GIVEN a FailureTopic THEN cdk-nag AwsSolutionsChecks stay clean', () => {
    const team = teamStack();
    const failures = new FailureTopic(team.stack, 'Failures', { namespace: 'team', notify: ['platform@example.com'] });
    new ImagePipeline(team.stack, 'Python', {
      imageId: 'python',
      namespace: 'team',
      sourceBucket: team.sourceBucket,
      repository: team.repository,
      failureTopic: failures.topic,
    });
    const app = team.stack.node.root as App;
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  test('GIVEN both a warehouse and a failureTopic THEN it refuses, saying to pass one', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const failures = new FailureTopic(stack, 'Failures');
    expect(
      () =>
        new ImagePipeline(stack, 'Python', { imageId: 'python', warehouse: Warehouse.fromNamespace(stack, 'Warehouse', 'acme'), failureTopic: failures.topic }),
    ).toThrow(ImagePipelinePropsError);
    expect(
      () => new ImagePipeline(stack, 'Node', { imageId: 'node', warehouse: Warehouse.fromNamespace(stack, 'W2', 'acme'), failureTopic: failures.topic }),
    ).toThrow(/both warehouse and failureTopic are given: pass either a warehouse or your own resources/);
  });
});

test('ImageRetention without a failure topic keeps its asynchronous invocations unretried and sends nothing', () => {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const retention = new ImageRetention(stack, 'Retention', {
    registryHost: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    releaseRepository: 'team/images/python',
    stagingRepository: 'team/builds/python',
  });
  const template = Template.fromStack(stack);
  expect(retention.failureAlarm).toBeUndefined();
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, DestinationConfig: Match.absent() });
  template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
});
