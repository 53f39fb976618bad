import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { pipelineNameProblem } from './upload-pipeline';

/**
 * What both pipelines take from a CDK user who has resources of their own instead of
 * a warehouse (see `pipelineWarehouse` of `@devcontainer-factory/warehouse`), and the
 * names and logs of what they create.
 */
export interface PipelineResourceProps {
  /**
   * The bucket configurations are uploaded to (`<ns>/<kind>s/<id>.zip`), versioned. A
   * bucket of this app gets its EventBridge notifications switched on; for an imported
   * one a warning says to switch them on, or the pipeline never starts.
   * @default - none: pass a `warehouse` instead
   */
  readonly sourceBucket?: s3.IBucket;
  /**
   * The KMS key of the source bucket's objects; the created artifact bucket is
   * encrypted with it too, and the stages decrypt with it.
   * @default - the source bucket's `encryptionKey`
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * CodePipeline's artifact store, encrypted with `encryptionKey` (or none).
   * @default - with a warehouse, its artifact bucket; else a new bucket (SSE-KMS with
   * `encryptionKey`, TLS only, public access blocked, artifacts expire after 7 days,
   * removed by `removalPolicy`)
   */
  readonly artifactBucket?: s3.IBucket;
  /**
   * The SNS topic failures are sent to (a failed action, with its stage and the summary
   * it reported; for images also retention errors), e.g. the `topic` of a
   * `FailureTopic`. Its policy must let EventBridge rules and CloudWatch alarms of this
   * account publish: a topic of this app gets the statements, an imported one a warning.
   * @default - with a warehouse, its failure topic; else none: no failure is sent
   */
  readonly failureTopic?: sns.ITopic;
  /**
   * The CodePipeline name: 1 to 100 characters of `A-Za-z0-9.@-_`. Its first 20
   * characters are the key prefix of its artifacts, which the stage roles may read:
   * give pipelines that share an artifact bucket names that differ in them.
   * @default - `<ns>-<kind>-<id>`, the name `dcf status` looks for
   */
  readonly pipelineName?: string;
  /**
   * Where the pipeline's Lambdas and CodeBuild projects log.
   * @default - a new log group, kept for `logRetention` and removed by `removalPolicy`
   */
  readonly logGroup?: logs.ILogGroup;
  /**
   * How long the log group the pipeline creates keeps its events (not with `logGroup`).
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to what the pipeline creates and keeps data in (its log groups, and
   * without a warehouse the artifact bucket and, for images, the staging repository,
   * which `DESTROY` also empties) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** What is wrong with the names and logs of {@link PipelineResourceProps}, in words; undefined when nothing is. */
export function pipelineResourceProblem(props: Pick<PipelineResourceProps, 'logGroup' | 'logRetention' | 'pipelineName'>): string | undefined {
  if (props.logGroup && props.logRetention !== undefined) {
    return 'logRetention applies only to the log group the pipeline creates: set it on your logGroup instead, or leave logGroup out';
  }
  return props.pipelineName === undefined ? undefined : pipelineNameProblem(props.pipelineName);
}

/** The pipeline's log group: the given one, or a new `Logs` kept for `logRetention` (three months) and removed by `removalPolicy`. */
export function pipelineLogGroup(
  scope: Construct,
  props: Pick<PipelineResourceProps, 'logGroup' | 'logRetention'>,
  removalPolicy: RemovalPolicy,
): logs.ILogGroup {
  return props.logGroup ?? new logs.LogGroup(scope, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS, removalPolicy });
}
