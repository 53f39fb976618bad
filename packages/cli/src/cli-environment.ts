/**
 * Everything `dcf` takes from the outside world, so that tests can pass their
 * own: output streams, working folder, environment variables, AWS clients and
 * the clock. `exec` fills in the real ones for what is not given.
 */
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';

/** The part of a writable stream `dcf` uses. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True for a terminal: enables colours and progress bars. */
  readonly isTTY?: boolean;
  /** Terminal width, for progress bars. */
  readonly columns?: number;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** AWS SDK clients, created on first use (the SDK is loaded only by commands that talk to AWS). */
export interface AwsClients {
  s3(): Promise<S3Client>;
  ssm(): Promise<SSMClient>;
  ecr(): Promise<ECRClient>;
  codePipeline(): Promise<CodePipelineClient>;
}

/** What the global `--region` and `--profile` options ask of the SDK. */
export interface AwsClientOptions {
  /** @default - the SDK's region chain: AWS_REGION, then the profile's region */
  readonly region?: string;
  /** @default - the SDK's profile chain: AWS_PROFILE, then `default` */
  readonly profile?: string;
}

export interface CliEnvironment {
  /** @default process.stdout */
  readonly stdout: OutputStream;
  /** @default process.stderr */
  readonly stderr: OutputStream;
  /** Folder that relative paths are resolved against. @default process.cwd() */
  readonly cwd: string;
  /** Environment variables (NO_COLOR, DCF_NAMESPACE, AWS_ENDPOINT_URL_S3, …). @default process.env */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Creates the AWS clients for the global options. @default - SDK clients with the SDK's standard configuration */
  readonly awsClients: (options: AwsClientOptions, env: Readonly<Record<string, string | undefined>>) => AwsClients;
  /** @default - the system clock */
  readonly clock: Clock;
  /** How long `push --wait` waits between two looks at the pipeline. @default 5000 */
  readonly pollIntervalMs: number;
}
