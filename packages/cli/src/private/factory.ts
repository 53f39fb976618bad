/**
 * Finds a deployed factory from the SSM parameters its warehouse writes for a
 * namespace, and checks that what they name exists, before anything is written.
 */
import { parameterNames } from '@devcontainer-factory/core';
import type { AwsClients } from '../cli-environment';
import { DcfError, ExitCode } from '../dcf-error';
import { aws, awsError, errorName, httpStatus } from './aws-errors';

export interface FactoryLocation {
  readonly namespace: string;
  /** The region the SDK resolved, for messages. */
  readonly region: string;
  readonly sourceBucket: string;
  /** ECR host images are pulled from, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  readonly registry: string;
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
 * The factory's names, from SSM. Fails with what to deploy when the namespace has none.
 * @param deniedAdvice what to do when AWS denies the read (see `awsError`)
 */
export async function findFactory(clients: AwsClients, namespace: string, deniedAdvice?: string): Promise<FactoryLocation> {
  const { GetParametersCommand } = await import('@aws-sdk/client-ssm');
  const ssm = await clients.ssm();
  const names = parameterNames(namespace);
  const wanted = [names.sourceBucketName, names.registry];
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
        `deploy it with "nx deploy factory -c namespace=${namespace}", or pass --namespace (or --region / --profile) for the factory you meant`,
      ExitCode.Aws,
    );
  }
  return { namespace, region: await regionOf(ssm), sourceBucket: values.get(names.sourceBucketName)!, registry: values.get(names.registry)! };
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
