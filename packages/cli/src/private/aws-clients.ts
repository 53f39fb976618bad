/**
 * The real AWS clients: loaded on first use, so that `dcf validate` and
 * `dcf --help` start without loading the SDK. They follow the SDK's standard
 * configuration (profiles, AWS_REGION, AWS_ENDPOINT_URL_S3, …); with a custom S3
 * endpoint (MinIO, s3rver, LocalStack) they address buckets by path.
 */
import type { AwsClientOptions, AwsClients } from '../cli-environment';

export function sdkClients(options: AwsClientOptions, env: Readonly<Record<string, string | undefined>>): AwsClients {
  const common = { ...(options.region ? { region: options.region } : {}), ...(options.profile ? { profile: options.profile } : {}) };
  const memo = <T>(create: () => Promise<T>) => {
    let client: Promise<T> | undefined;
    return () => (client ??= create());
  };
  const customS3Endpoint = Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  return {
    s3: memo(async () => new (await import('@aws-sdk/client-s3')).S3Client({ ...common, ...(customS3Endpoint ? { forcePathStyle: true } : {}) })),
    ssm: memo(async () => new (await import('@aws-sdk/client-ssm')).SSMClient(common)),
    ecr: memo(async () => new (await import('@aws-sdk/client-ecr')).ECRClient(common)),
    codePipeline: memo(async () => new (await import('@aws-sdk/client-codepipeline')).CodePipelineClient(common)),
  };
}
