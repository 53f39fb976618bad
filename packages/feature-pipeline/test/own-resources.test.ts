import { App, CfnOutput, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { FactoryError, pipelineName } from '@devcontainer-factory/core';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { FeaturePipeline, FeaturePipelinePropsError, type FeaturePipelineProps } from '../src';

// The feature pipeline alone, in a team's own app: its own bucket and key, no warehouse.

const logicalId = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

function teamStack(app = new App()) {
  const stack = new Stack(app, 'Team', { env: { account: '123456789012', region: 'eu-west-1' } });
  const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const sourceBucket = new s3.Bucket(stack, 'Source', { encryptionKey, versioned: true, enforceSSL: true, serverAccessLogsPrefix: 'access-logs/' });
  return { app, stack, encryptionKey, sourceBucket };
}

function pipelineIn(props: Partial<FeaturePipelineProps> = {}) {
  const team = teamStack();
  const featurePipeline = new FeaturePipeline(team.stack, 'Hello', { featureId: 'hello', namespace: 'team', sourceBucket: team.sourceBucket, ...props });
  return { ...team, featurePipeline, template: Template.fromStack(team.stack) };
}

test('GIVEN a team bucket and key THEN the feature pipeline synthesizes on them, publishes to <ns>/features/<id> and creates its artifact bucket', () => {
  // GIVEN / WHEN
  const { template, featurePipeline, sourceBucket, encryptionKey } = pipelineIn();

  // THEN
  template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: pipelineName('team', 'feature', 'hello') });
  expect(featurePipeline.repositoryName).toBe('team/features/hello');
  template.hasResourceProperties('AWS::S3::Bucket', { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
  const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
  expect(rule.Properties.EventPattern.detail).toEqual({ bucket: { name: [{ Ref: logicalId(sourceBucket) }] }, object: { key: ['team/features/hello.zip'] } });
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: {
      ServerSideEncryptionConfiguration: [
        Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(encryptionKey), 'Arn'] } } }),
      ],
    },
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-artifacts' })]) },
  });
});

test('GIVEN an imported bucket THEN a warning says to switch its EventBridge notifications on', () => {
  const team = teamStack();
  const imported = s3.Bucket.fromBucketAttributes(team.stack, 'Imported', { bucketName: 'team-features', encryptionKey: team.encryptionKey });
  new FeaturePipeline(team.stack, 'Hello', { featureId: 'hello', sourceBucket: imported });
  Annotations.fromStack(team.stack).hasWarning('/Team/Hello/Resources', Match.stringLikeRegexp('is imported: make sure it sends events to EventBridge'));
});

test('GIVEN pipelineName, logRetention and removalPolicy THEN the pipeline and what it creates use them', () => {
  const { template } = pipelineIn({ pipelineName: 'team-hello', logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
  template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: 'team-hello' });
  template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', Properties: { RetentionInDays: 7 } });
  template.hasResource('AWS::S3::Bucket', {
    DeletionPolicy: 'Delete',
    Properties: { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-artifacts' })]) } },
  });
});

test.each<[string, (team: ReturnType<typeof teamStack>) => FeaturePipelineProps, RegExp]>([
  [
    'neither a warehouse nor a source bucket',
    () => ({ featureId: 'hello' }),
    /^Team\/Hello: warehouse or sourceBucket is missing: pass the namespace's warehouse/,
  ],
  [
    'a warehouse and a source bucket',
    (t) => ({ featureId: 'hello', warehouse: Warehouse.fromNamespace(t.stack, 'W', 'team'), sourceBucket: t.sourceBucket }),
    /^Team\/Hello: both warehouse and sourceBucket are given/,
  ],
  [
    'a bad pipelineName',
    (t) => ({ featureId: 'hello', sourceBucket: t.sourceBucket, pipelineName: 'a b' }),
    /^Team\/Hello: pipelineName 'a b' is not a CodePipeline name/,
  ],
  [
    'a bucket without a key',
    (t) => ({ featureId: 'hello', sourceBucket: s3.Bucket.fromBucketName(t.stack, 'Bare', 'bare') }),
    /^Team\/Hello: the source bucket Team\/Bare has no encryptionKey/,
  ],
  [
    'a bad computeSize',
    (t) => ({ featureId: 'hello', sourceBucket: t.sourceBucket, computeSize: 'huge' as never }),
    /^Team\/Hello: computeSize 'huge' is unknown/,
  ],
])('GIVEN %s THEN FeaturePipelinePropsError names the construct path and what to pass', (_name, props, message) => {
  const make = () => {
    const team = teamStack();
    new FeaturePipeline(team.stack, 'Hello', props(team));
  };
  expect(make).toThrow(FeaturePipelinePropsError);
  expect(make).toThrow(FactoryError);
  expect(make).toThrow(message);
});

test('GIVEN a FeaturePipeline in a plain Stack THEN its tree holds no CfnOutput and the stack is clean under cdk-nag', () => {
  const team = teamStack(new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } }));
  const featurePipeline = new FeaturePipeline(team.stack, 'Hello', { featureId: 'hello', sourceBucket: team.sourceBucket });
  expect(featurePipeline.node.findAll().filter((c) => c instanceof CfnOutput)).toEqual([]);
  Validations.of(team.app).addPlugins(new AwsSolutionsChecks(team.app));
  expect(() => team.app.synth()).not.toThrow();
  expect(Template.fromStack(team.stack).toJSON().Outputs).toBeUndefined();
});

describe("the team's own feature and collection repositories", () => {
  const withRepositories = (names: { feature?: string; collection?: string } = {}) => {
    const team = teamStack();
    const repository = new ecr.Repository(team.stack, 'FeatureRepository', { repositoryName: names.feature ?? 'team/features/hello', imageScanOnPush: true });
    const collectionRepository = new ecr.Repository(team.stack, 'CollectionRepository', { repositoryName: names.collection ?? 'team/features' });
    return { ...team, repository, collectionRepository };
  };

  test('GIVEN both THEN Publish pushes to exactly their ARNs: the grants name the repositories, not a name pattern', () => {
    const { stack, repository, collectionRepository } = withRepositories();
    const featurePipeline = new FeaturePipeline(stack, 'Hello', {
      featureId: 'hello',
      namespace: 'team',
      sourceBucket: teamSource(stack),
      repository,
      collectionRepository,
    });
    expect(stack.resolve(featurePipeline.repositoryName)).toEqual({ Ref: logicalId(repository) });
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const publish = Object.entries(policies).find(([id]) => id.startsWith('HelloPublishRoleDefaultPolicy'))![1];
    const pushes = (publish.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).filter((s) =>
      ([] as string[]).concat(s.Action).includes('ecr:PutImage'),
    );
    expect(pushes).toHaveLength(1);
    expect(pushes[0].Resource).toEqual(
      expect.arrayContaining([{ 'Fn::GetAtt': [logicalId(repository), 'Arn'] }, { 'Fn::GetAtt': [logicalId(collectionRepository), 'Arn'] }]),
    );
  });

  test.each([
    [
      { feature: 'team/hello' },
      /repository is named 'team\/hello', but devcontainer features publish puts the feature 'hello' of namespace 'team' at 'team\/features\/hello'/,
    ],
    [
      { collection: 'team/collection' },
      /collectionRepository is named 'team\/collection', but devcontainer features publish puts the collection of namespace 'team' at 'team\/features'/,
    ],
  ])('GIVEN a repository named %j THEN it is refused, naming the layout the CLI publishes to', (names, message) => {
    const { stack, repository, collectionRepository } = withRepositories(names);
    let n = 0;
    const attempt = () =>
      new FeaturePipeline(stack, `Hello${n++}`, { featureId: 'hello', namespace: 'team', sourceBucket: teamSource(stack), repository, collectionRepository });
    expect(attempt).toThrow(FeaturePipelinePropsError);
    expect(attempt).toThrow(message);
  });

  test('GIVEN a repository and a warehouse THEN it is refused: the warehouse makes the repositories', () => {
    const { stack, repository } = withRepositories();
    expect(() => new FeaturePipeline(stack, 'Hello', { featureId: 'hello', warehouse: Warehouse.fromNamespace(stack, 'W', 'team'), repository })).toThrow(
      /both warehouse and repository are given/,
    );
  });

  test('GIVEN a repository of another account THEN it is refused', () => {
    const team = teamStack();
    const repository = ecr.Repository.fromRepositoryArn(team.stack, 'Other', 'arn:aws:ecr:eu-west-1:210987654321:repository/team/features/hello');
    expect(() => new FeaturePipeline(team.stack, 'Hello', { featureId: 'hello', namespace: 'team', sourceBucket: team.sourceBucket, repository })).toThrow(
      /repository is in account 210987654321, and this stack deploys to account 123456789012/,
    );
  });
});

/** The team bucket of `stack` (made by teamStack). */
function teamSource(stack: Stack): s3.IBucket {
  return stack.node.findChild('Source') as s3.Bucket;
}
