import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type { Construct } from 'constructs';
import { BASE_IMAGE_TAG } from '@devcontainer-factory/lambdas';

/**
 * Starts the pipeline when a base image's `latest` tag is pushed (by its own
 * Release), so that an image is rebuilt on its new base.
 */
export function baseImageReleasedRule(scope: Construct, pipeline: codepipeline.IPipeline, baseRepositories: readonly string[]): events.Rule {
  return new events.Rule(scope, 'BaseImageReleased', {
    // The description stays the same length whatever the number of bases (CloudFormation allows 512 characters);
    // the event pattern names them.
    description: `Starts the image pipeline when the ${BASE_IMAGE_TAG} tag of one of its ${baseRepositories.length} base image${baseRepositories.length === 1 ? '' : 's'} is pushed`,
    eventPattern: {
      source: ['aws.ecr'],
      detailType: ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': [...baseRepositories], 'image-tag': [BASE_IMAGE_TAG] },
    },
    targets: [new targets.CodePipeline(pipeline)],
  });
}
