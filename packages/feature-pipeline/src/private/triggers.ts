import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type { Construct } from 'constructs';
import type { IWarehouse } from '@devcontainer-factory/warehouse';

/**
 * Starts the pipeline when its exact source key is uploaded: the source bucket
 * sends its events to EventBridge, so there is no polling and no CloudTrail trail.
 */
export function sourceUploadedRule(scope: Construct, pipeline: codepipeline.IPipeline, warehouse: IWarehouse, sourceKey: string): events.Rule {
  return new events.Rule(scope, 'SourceUploaded', {
    description: `Starts the feature pipeline when ${sourceKey} is uploaded`,
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [warehouse.sourceBucket.bucketName] }, object: { key: [sourceKey] } },
    },
    targets: [new targets.CodePipeline(pipeline)],
  });
}
