import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactoryError } from '@devcontainer-factory/core';
import { Warehouse, WarehousePropsError } from '../src';

// A warehouse made of a team's own buckets and keys, for the pipelines alone.

function ownResources(stack: Stack) {
  const s3Key = new kms.Key(stack, 'S3Key', { enableKeyRotation: true });
  const ecrKey = new kms.Key(stack, 'EcrKey', { enableKeyRotation: true });
  const sourceBucket = new s3.Bucket(stack, 'Source', { encryptionKey: s3Key, versioned: true, enforceSSL: true });
  const artifactBucket = new s3.Bucket(stack, 'Artifacts', { encryptionKey: s3Key, enforceSSL: true });
  return { s3Key, ecrKey, sourceBucket, artifactBucket };
}

test('GIVEN a bucket, key and artifact bucket of this app THEN the warehouse uses them, switches on EventBridge notifications of the source bucket, and grants on them', () => {
  // GIVEN
  const stack = new Stack(new App(), 'Team');
  const own = ownResources(stack);

  // WHEN
  const warehouse = Warehouse.fromWarehouseAttributes(stack, 'Warehouse', { namespace: 'team', ...own });
  const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
  warehouse.grantReadSource(role, 'image', 'python');

  // THEN
  expect(warehouse.sourceBucket).toBe(own.sourceBucket);
  expect(warehouse.s3Key).toBe(own.s3Key);
  expect(warehouse.repositoryName('image', 'python')).toBe('team/images/python');
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::S3::Bucket', {
    NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    VersioningConfiguration: { Status: 'Enabled' },
  });
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Action: ['s3:GetObject', 's3:GetObjectVersion'],
          Resource: { 'Fn::Join': ['', [Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^Source'), 'Arn'] }), '/team/images/python.zip']] },
        }),
      ]),
    },
  });
});

test('GIVEN an imported source bucket THEN a warning says to switch on its EventBridge notifications', () => {
  const stack = new Stack(new App(), 'Team');
  const own = ownResources(stack);
  Warehouse.fromWarehouseAttributes(stack, 'Warehouse', {
    ...own,
    namespace: 'team',
    sourceBucket: s3.Bucket.fromBucketAttributes(stack, 'Imported', { bucketName: 'team-configs', encryptionKey: own.s3Key }),
  });
  Annotations.fromStack(stack).hasWarning('/Team/Warehouse', Match.stringLikeRegexp('is imported: make sure it sends events to EventBridge'));
});

test('GIVEN no s3Key and a source bucket without one THEN the error names the construct and says what to pass', () => {
  const make = () => {
    const stack = new Stack(new App(), 'Team');
    const own = ownResources(stack);
    const bare = s3.Bucket.fromBucketName(stack, 'Bare', 'team-configs');
    return Warehouse.fromWarehouseAttributes(stack, 'Warehouse', {
      namespace: 'team',
      sourceBucket: bare,
      artifactBucket: own.artifactBucket,
      ecrKey: own.ecrKey,
    });
  };
  expect(make).toThrow(/Team\/Warehouse: the source bucket has no encryptionKey .*: pass s3Key/);
  expect(make).toThrow(WarehousePropsError);
  expect(make).toThrow(FactoryError);
});

test('GIVEN a bad namespace THEN the naming rule refuses it', () => {
  const stack = new Stack(new App(), 'Team');
  expect(() => Warehouse.fromWarehouseAttributes(stack, 'Warehouse', { namespace: 'Team', ...ownResources(stack) })).toThrow(/namespace 'Team' is invalid/);
});

test('GIVEN repositories of your own and no ecrKey THEN a grant on one of them by name goes to its own ARN, others to <ns>/… of this account', () => {
  // GIVEN
  const stack = new Stack(new App(), 'Team');
  const { sourceBucket, artifactBucket } = ownResources(stack);
  const repository = new ecr.Repository(stack, 'Repository');
  const warehouse = Warehouse.fromWarehouseAttributes(stack, 'Warehouse', { namespace: 'team', sourceBucket, artifactBucket, repositories: [repository] });
  const role = new iam.Role(stack, 'Pusher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

  // WHEN
  warehouse.grantPush(role, repository.repositoryName);
  warehouse.grantPull(role, 'team/images/base');

  // THEN
  expect(warehouse.ecrKey).toBeUndefined();
  expect(warehouse.repositoryArn(repository.repositoryName)).toBe(repository.repositoryArn);
  const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))[0].Properties.PolicyDocument.Statement as {
    Action: string[];
    Resource: unknown;
  }[];
  const push = statements.find((st) => Array.isArray(st.Action) && st.Action.includes('ecr:PutImage'));
  expect(JSON.stringify(push?.Resource)).toMatch(/"Fn::GetAtt":\["Repository[0-9A-F]+","Arn"\]/);
  const pull = statements.find((st) => Array.isArray(st.Action) && st.Action.includes('ecr:BatchGetImage') && !st.Action.includes('ecr:PutImage'));
  expect(JSON.stringify(pull?.Resource)).toContain(':repository/team/images/base');
});
