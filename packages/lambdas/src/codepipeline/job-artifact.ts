/**
 * Reads a job's input artifacts from the artifact bucket, and writes its output artifact
 * there, with the credentials CodePipeline hands the job. The handler's own role then
 * needs no access to the artifact bucket or its key: the credentials are short-lived and
 * scoped by CodePipeline to this pipeline's artifacts. An output artifact is encrypted
 * with the artifact store's key that the job names (`encryptionKey`), as CodePipeline
 * encrypts the artifacts it writes itself.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  JobParametersError,
  MAX_SOURCE_ZIP_SIZE,
  namedInputArtifact,
  singleInputArtifact,
  singleOutputArtifact,
  type ArtifactCredentials,
  type CodePipelineJob,
  type JobArtifact,
  FactoryError,
} from '@devcontainer-factory/core';

export { MAX_SOURCE_ZIP_SIZE };

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** Builds the S3 client for a job's artifact credentials; tests pass their own. */
export type S3ClientFactory = (credentials: ArtifactCredentials) => S3Client;

/** An S3 client in the Lambda's region that signs with the job's artifact credentials. */
export const artifactS3Client: S3ClientFactory = (credentials) =>
  new S3Client({
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
  });

/** Thrown when an input artifact cannot be read. */
export class ArtifactReadError extends FactoryError {}
/** Thrown when the output artifact cannot be written. */
export class ArtifactWriteError extends FactoryError {}

function credentialsOf(job: CodePipelineJob, doing: string): ArtifactCredentials {
  const credentials = job.data.artifactCredentials;
  if (!credentials) throw new JobParametersError(`the job carries no artifactCredentials to ${doing}`);
  return credentials;
}

const whereOf = (artifact: JobArtifact) =>
  `s3://${artifact.location.s3Location.bucketName}/${artifact.location.s3Location.objectKey} (artifact ${artifact.name})`;

/** What to read with {@link readInputArtifact}. */
export interface ReadArtifactOptions {
  /**
   * The input artifact's name, for an action with several.
   * @default - the action's only input artifact
   */
  readonly name?: string;
  /**
   * Largest artifact read, in bytes.
   * @default MAX_SOURCE_ZIP_SIZE (50 MiB)
   */
  readonly maxSize?: number;
}

/**
 * The bytes of one of the job's input artifacts (for an S3 source action's: the
 * uploaded zip, unchanged).
 */
export async function readInputArtifact(
  job: CodePipelineJob,
  s3ClientFor: S3ClientFactory = artifactS3Client,
  options: ReadArtifactOptions = {},
): Promise<Uint8Array> {
  const artifact = options.name === undefined ? singleInputArtifact(job) : namedInputArtifact(job, options.name);
  const maxSize = options.maxSize ?? MAX_SOURCE_ZIP_SIZE;
  const credentials = credentialsOf(job, 'read its input artifacts');
  const { bucketName, objectKey } = artifact.location.s3Location;
  const where = whereOf(artifact);
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
  const bytes = await res.Body.transformToByteArray();
  if (bytes.length > maxSize)
    throw new ArtifactReadError(`${where} is ${mib(bytes.length)}, over the limit of ${mib(maxSize)}: make the configuration smaller`);
  return bytes;
}

/**
 * Writes `bytes` as the job's one output artifact, where CodePipeline says it goes,
 * encrypted with the artifact store's KMS key when the job names one.
 * @returns where it was written, for messages
 */
export async function writeOutputArtifact(
  job: CodePipelineJob,
  bytes: Uint8Array,
  s3ClientFor: S3ClientFactory = artifactS3Client,
  contentType = 'application/zip',
): Promise<string> {
  const artifact = singleOutputArtifact(job);
  const credentials = credentialsOf(job, 'write its output artifact');
  const { bucketName, objectKey } = artifact.location.s3Location;
  const key = job.data.encryptionKey;
  if (key && key.type !== 'KMS')
    throw new JobParametersError(`the job's artifact store is encrypted with a key of type ${key.type}; the handler writes artifacts with KMS keys only`);
  try {
    await s3ClientFor(credentials).send(
      new PutObjectCommand({
        Bucket: bucketName,
        Key: objectKey,
        Body: bytes,
        ContentType: contentType,
        ...(key && { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id }),
      }),
    );
  } catch (cause) {
    throw new ArtifactWriteError(`cannot write ${whereOf(artifact)}: ${(cause as Error).name ?? 'Error'}: ${(cause as Error).message}`, { cause });
  }
  return whereOf(artifact);
}
