import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type { Construct } from 'constructs';
import { BASE_IMAGE_TAG } from '@devcontainer-factory/lambdas';
import type { IWarehouse } from '@devcontainer-factory/warehouse';

/**
 * Starts the pipeline when its exact source key is uploaded: the source bucket
 * sends its events to EventBridge, so there is no polling and no CloudTrail trail.
 */
export function sourceUploadedRule(scope: Construct, pipeline: codepipeline.IPipeline, warehouse: IWarehouse, sourceKey: string): events.Rule {
  return new events.Rule(scope, 'SourceUploaded', {
    description: `Starts the image pipeline when ${sourceKey} is uploaded`,
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [warehouse.sourceBucket.bucketName] }, object: { key: [sourceKey] } },
    },
    targets: [new targets.CodePipeline(pipeline)],
  });
}

/**
 * Starts the pipeline when a base image's `latest` tag is pushed (by its own
 * Release), so that an image is rebuilt on its new base.
 */
export function baseImageReleasedRule(scope: Construct, pipeline: codepipeline.IPipeline, baseRepositories: readonly string[]): events.Rule {
  return new events.Rule(scope, 'BaseImageReleased', {
    description: `Starts the image pipeline when ${baseRepositories.map((r) => `${r}:${BASE_IMAGE_TAG}`).join(', ')} is pushed`,
    eventPattern: {
      source: ['aws.ecr'],
      detailType: ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': [...baseRepositories], 'image-tag': [BASE_IMAGE_TAG] },
    },
    targets: [new targets.CodePipeline(pipeline)],
  });
}
