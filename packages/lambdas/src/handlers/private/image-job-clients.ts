import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { S3ClientFactory } from '../../codepipeline/job-artifact';
import type { JobLog } from '../../codepipeline/job-runner';
import type { ReleaseLock, RetryOptions } from '@devcontainer-factory/core';

/** What an image pipeline handler talks to; built once per Lambda container, replaced in tests. */
export interface ImageJobClients {
  readonly codepipeline: CodePipelineClient;
  readonly ecr: ECRClient;
  /**
   * Builds the S3 client that reads input artifacts with the job's credentials.
   * @default - an S3 client in the Lambda's region
   */
  readonly s3ClientFor?: S3ClientFactory;
  /**
   * The `fetch` that downloads blobs from ECR's layer URLs.
   * @default - the global `fetch`
   */
  readonly fetch?: typeof fetch;
  /**
   * How to retry throttled ECR and CodePipeline calls.
   * @default - 5 retries with exponential backoff from 200 ms
   */
  readonly retry?: RetryOptions;
  /**
   * The clock, for the date tag.
   * @default - the current time
   */
  readonly now?: () => Date;
  /**
   * How to wait between two reads of a scan in progress.
   * @default - a timer
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Where to log.
   * @default - one JSON object per line ({@link jsonLog}) with the job's `jobId`
   */
  readonly log?: JobLog;
  /**
   * The lock Release holds while it writes the release repository.
   * @default - the DynamoDB lock of the table the function's environment names, shared with Retention; else a lock file in `/tmp`
   */
  readonly releaseLock?: ReleaseLock;
}
