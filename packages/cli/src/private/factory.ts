/**
 * Finds a deployed factory from the SSM parameters its warehouse writes for a
 * namespace (`/<ns>/factory/source-bucket-name` and `/<ns>/factory/registry`), or from
 * `--source-bucket` and `--registry-host` for a team whose pipelines use buckets and
 * repositories of its own, and checks that what they name exists, before anything is written.
 */
import { isRegistryHost, parameterNames } from '@devcontainer-factory/core';
import type { AwsClients } from '../cli-environment';
import { DcfError, ExitCode } from '../dcf-error';
import { aws, awsError, errorName, httpStatus } from './aws-errors';

/** What the command line (or DCF_SOURCE_BUCKET, DCF_REGISTRY_HOST) says of the factory: each one given is not read from SSM. */
export interface FactoryOverrides {
  readonly sourceBucket?: string;
  readonly registryHost?: string;
}

/** S3's rule for a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The problem with the overrides, or undefined. */
export function factoryOverridesProblem(given: FactoryOverrides): string | undefined {
  if (given.sourceBucket !== undefined && !BUCKET_NAME.test(given.sourceBucket))
    return `--source-bucket '${given.sourceBucket}' is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`;
  if (given.registryHost !== undefined && !isRegistryHost(given.registryHost))
    return `--registry-host '${given.registryHost}' is not a registry host such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com`;
  return undefined;
}

export interface FactoryLocation {
  readonly namespace: string;
  /** The region the SDK resolved, for messages. */
  readonly region: string;
  readonly sourceBucket: string;
  /** ECR host images are pulled from, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly registry: string;
  /** True when the source bucket came from --source-bucket (or DCF_SOURCE_BUCKET), not from SSM. */
  readonly sourceBucketGiven?: boolean;
}

async function regionOf(client: { config: { region: unknown } }): Promise<string> {
  try {
    const region = client.config.region;
    return typeof region === 'function' ? String(await region()) : String(region);
  } catch {
    return 'the configured region';
  }
}

/**
 * The factory's names: those given, the rest from SSM (nothing is read when both are
 * given). Fails with what to deploy, or what to pass, when the namespace has none.
 * @param deniedAdvice what to do when AWS denies the read (see `awsError`)
 * @param given `--source-bucket` and `--registry-host`
 */
export async function findFactory(clients: AwsClients, namespace: string, deniedAdvice?: string, given: FactoryOverrides = {}): Promise<FactoryLocation> {
  const problem = factoryOverridesProblem(given);
  if (problem) throw new DcfError(problem, ExitCode.Usage);
  const { GetParametersCommand } = await import('@aws-sdk/client-ssm');
  const ssm = await clients.ssm();
  if (given.sourceBucket !== undefined && given.registryHost !== undefined) {
    return { namespace, region: await regionOf(ssm), sourceBucket: given.sourceBucket, registry: given.registryHost, sourceBucketGiven: true };
  }
  const names = parameterNames(namespace);
  const wanted: string[] = [];
  if (given.sourceBucket === undefined) wanted.push(names.sourceBucketName);
  if (given.registryHost === undefined) wanted.push(names.registry);
  const response = await aws(
    `reading the factory's SSM parameters for namespace '${namespace}'`,
    () => ssm.send(new GetParametersCommand({ Names: wanted })),
    deniedAdvice,
  );
  const values = new Map((response.Parameters ?? []).map((p) => [p.Name, p.Value]));
  const missing = wanted.filter((n) => !values.get(n));
  if (missing.length > 0) {
    const region = await regionOf(ssm);
    throw new DcfError(
      `no factory is deployed for namespace '${namespace}' in ${region} (SSM parameter ${missing.join(', ')} not found): ` +
        `deploy it with "nx deploy factory -c namespace=${namespace}", or pass --namespace (or --region / --profile) for the factory you meant; ` +
        `pipelines on buckets and repositories of your own: pass --source-bucket and --registry-host (or DCF_SOURCE_BUCKET, DCF_REGISTRY_HOST)`,
      ExitCode.Aws,
    );
  }
  return {
    namespace,
    region: await regionOf(ssm),
    sourceBucket: given.sourceBucket ?? values.get(names.sourceBucketName)!,
    registry: given.registryHost ?? values.get(names.registry)!,
    sourceBucketGiven: given.sourceBucket !== undefined,
  };
}

/**
 * Checks that the source bucket the parameters name exists and can be reached.
 * @param deniedAdvice what to do when AWS denies the check (see `awsError`)
 */
export async function assertSourceBucket(clients: AwsClients, factory: FactoryLocation, deniedAdvice?: string): Promise<void> {
  const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const s3 = await clients.s3();
  try {
    await s3.send(new HeadBucketCommand({ Bucket: factory.sourceBucket }));
  } catch (e) {
    if ((errorName(e) === 'NotFound' || errorName(e) === 'NoSuchBucket' || httpStatus(e) === 404) && factory.sourceBucketGiven) {
      throw new DcfError(
        `the source bucket '${factory.sourceBucket}' (--source-bucket, or DCF_SOURCE_BUCKET) does not exist in ${factory.region}: pass the bucket your pipelines read their sources from`,
        ExitCode.Aws,
        { cause: e },
      );
    }
    if (errorName(e) === 'NotFound' || errorName(e) === 'NoSuchBucket' || httpStatus(e) === 404) {
      throw new DcfError(
        `the source bucket '${factory.sourceBucket}' (SSM parameter ${parameterNames(factory.namespace).sourceBucketName}) does not exist: ` +
          `the warehouse of namespace '${factory.namespace}' is broken or half-deleted; redeploy it with "nx deploy factory -c namespace=${factory.namespace}"`,
        ExitCode.Aws,
        { cause: e },
      );
    }
    throw awsError(e, `checking the source bucket '${factory.sourceBucket}'`, deniedAdvice);
  }
}
