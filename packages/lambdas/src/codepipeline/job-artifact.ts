/**
 * Reads a job's input artifact from the artifact bucket with the credentials
 * CodePipeline hands the job. The handler's own role then needs no access to the
 * artifact bucket or its key: the credentials are short-lived and scoped by
 * CodePipeline to this pipeline's artifacts.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { JobParametersError, singleInputArtifact, type ArtifactCredentials, type CodePipelineJob, FactoryError } from '@devcontainer-factory/core';

/** Largest source zip the Prepare action reads: 50 MiB, the size limit of `dcf push`. */
export const MAX_SOURCE_ZIP_SIZE = 50 * 1024 * 1024;

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** Builds the S3 client for a job's artifact credentials; tests pass their own. */
export type S3ClientFactory = (credentials: ArtifactCredentials) => S3Client;

/** An S3 client in the Lambda's region that signs with the job's artifact credentials. */
export const artifactS3Client: S3ClientFactory = (credentials) =>
  new S3Client({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
  });

/** Thrown when the input artifact cannot be read. */
export class ArtifactReadError extends FactoryError {}

/**
 * The bytes of the job's one input artifact (for an S3 source action: the
 * uploaded zip, unchanged).
 * @param maxSize largest artifact read, in bytes
 */
export async function readInputArtifact(job: CodePipelineJob, s3ClientFor: S3ClientFactory = artifactS3Client, maxSize = MAX_SOURCE_ZIP_SIZE): Promise<Uint8Array> {
  const artifact = singleInputArtifact(job);
  const credentials = job.data.artifactCredentials;
  if (!credentials) throw new JobParametersError('the job carries no artifactCredentials to read its input artifact');
  const { bucketName, objectKey } = artifact.location.s3Location;
  const where = `s3://${bucketName}/${objectKey} (artifact ${artifact.name})`;
  let res;
  try {
    res = await s3ClientFor(credentials).send(new GetObjectCommand({ Bucket: bucketName, Key: objectKey }));
  } catch (cause) {
    throw new ArtifactReadError(`cannot read ${where}: ${(cause as Error).name ?? 'Error'}: ${(cause as Error).message}`, { cause });
  }
  if (res.ContentLength !== undefined && res.ContentLength > maxSize) {
    throw new ArtifactReadError(`${where} is ${mib(res.ContentLength)}, over the limit of ${mib(maxSize)}: make the configuration smaller`);
  }
  if (!res.Body) throw new ArtifactReadError(`${where} has no body`);
  return res.Body.transformToByteArray();
}
