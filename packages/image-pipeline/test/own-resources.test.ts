import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Warehouse } from '@devcontainer-factory/warehouse';
import { ImagePipeline, ImagePipelinePropsError, type ImagePipelineProps } from '../src';

// The image pipeline alone, in a team's own app: its own bucket and keys, no warehouse stack.

test('GIVEN a team bucket, artifact bucket and keys THEN the image pipeline synthesizes on them and its source rule watches that bucket', () => {
  // GIVEN
  const stack = new Stack(new App(), 'Team', { env: { account: '123456789012', region: 'eu-west-1' } });
  const s3Key = new kms.Key(stack, 'S3Key', { enableKeyRotation: true });
  const sourceBucket = new s3.Bucket(stack, 'Source', { encryptionKey: s3Key, versioned: true, enforceSSL: true });
  const artifactBucket = new s3.Bucket(stack, 'Artifacts', { encryptionKey: s3Key, enforceSSL: true });
  const ecrKey = new kms.Key(stack, 'EcrKey', { enableKeyRotation: true });
  const warehouse = Warehouse.fromWarehouseAttributes(stack, 'Warehouse', { namespace: 'team', sourceBucket, artifactBucket, ecrKey });

  // WHEN
  const pipeline = new ImagePipeline(stack, 'Python', { warehouse, imageId: 'python' });

  // THEN
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::CodePipeline::Pipeline', 1);
  expect(pipeline.repositoryName).toBe('team/images/python');
  const [rule] = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern?.source?.[0] === 'aws.s3');
  expect(rule.Properties.EventPattern.detail.object).toEqual({ key: ['team/images/python.zip'] });
  expect(JSON.stringify(rule.Properties.EventPattern.detail.bucket.name)).toContain('Source');
  template.hasResourceProperties('AWS::S3::Bucket', { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
});

test('GIVEN no warehouse THEN ImagePipelinePropsError names the construct path and what to pass, not a TypeError', () => {
  const make = () => new ImagePipeline(new Stack(new App(), 'Team'), 'Python', { imageId: 'python' } as unknown as ImagePipelineProps);
  expect(make).toThrow(ImagePipelinePropsError);
  expect(make).toThrow(/^Team\/Python: warehouse is missing: pass the namespace's warehouse, e.g. Warehouse.fromNamespace\(this, 'Warehouse', 'devcontainers'\), or your own buckets and keys with Warehouse.fromWarehouseAttributes/);
});
