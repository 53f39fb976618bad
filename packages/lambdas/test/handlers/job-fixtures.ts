/** Builders for CodePipeline job events and the ECR answers the handlers read, shared by the handler tests. */
import { createHash } from 'node:crypto';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECRClient } from '@aws-sdk/client-ecr';
import { S3Client } from '@aws-sdk/client-s3';
import { strToU8, zipSync } from 'fflate';
import type { CodePipelineJobEvent, JobArtifact } from '@devcontainer-factory/core';

export const REGISTRY_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
export const REPOSITORY = 'devcontainers/images/python';

export const digestOf = (text: string | Uint8Array) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** The artifact bucket of {@link jobEvent}'s artifacts. */
export const ARTIFACT_BUCKET = 'artifacts';
/** The artifact store's KMS key that {@link jobEvent} names. */
export const ARTIFACT_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

/** An artifact of a job, in the artifact bucket. */
export function artifact(name: string, objectKey: string, bucketName = ARTIFACT_BUCKET): JobArtifact {
  return { name, revision: null, location: { type: 'S3', s3Location: { bucketName, objectKey } } };
}

/** The Source artifact of {@link jobEvent}: the uploaded zip. */
export const SOURCE_ARTIFACT: JobArtifact = { ...artifact('Source', 'pipeline/Source/abc.zip'), revision: 'v1' };
/** Prepare's output artifact in {@link jobEvent}: the build's input record. */
export const INPUTS_ARTIFACT = artifact('Inputs', 'pipeline/Inputs/def');

/**
 * A CodePipeline job event with the given UserParameters, the Source input artifact
 * (or `inputs`), Prepare's output artifact (or `outputs`), and the artifact store's key.
 */
export function jobEvent(
  userParameters: unknown,
  options: { id?: string; withInput?: boolean; inputs?: JobArtifact[]; outputs?: JobArtifact[] } = {},
): CodePipelineJobEvent {
  return {
    'CodePipeline.job': {
      id: options.id ?? 'job-1',
      accountId: '123456789012',
      data: {
        actionConfiguration: {
          configuration: { FunctionName: 'fn', UserParameters: typeof userParameters === 'string' ? userParameters : JSON.stringify(userParameters) },
        },
        inputArtifacts: options.inputs ?? (options.withInput === false ? [] : [SOURCE_ARTIFACT]),
        outputArtifacts: options.outputs ?? [INPUTS_ARTIFACT],
        artifactCredentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
        encryptionKey: { id: ARTIFACT_KEY, type: 'KMS' },
      },
    },
  };
}

/** A configuration zip with the given devcontainer.json text (and optional extra files). */
export function configZip(devcontainerJson: string, extra: Record<string, string> = {}): Uint8Array {
  const files: Record<string, Uint8Array> = { '.devcontainer/devcontainer.json': strToU8(devcontainerJson) };
  for (const [path, text] of Object.entries(extra)) files[path] = strToU8(text);
  return zipSync(files, { mtime: new Date('2020-01-01T00:00:00Z') });
}

/** An S3 GetObject answer whose body is `bytes`. */
export function s3Body(bytes: Uint8Array) {
  return { ContentLength: bytes.length, Body: { transformToByteArray: async () => bytes } as never };
}

/** A single-platform OCI image manifest whose config is `config`. */
export function imageManifest(config: object): { manifest: string; config: Buffer } {
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(configBytes), size: configBytes.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf('layer'), size: 5 }],
  });
  return { manifest, config: configBytes };
}

/** An error shaped as the AWS SDK throws it. */
export function sdkError(name: string, status = 400): Error {
  return Object.assign(new Error(`${name} from the service`), { name, $metadata: { httpStatusCode: status } });
}

/** Retry options that do not wait. */
export const noWait = { sleep: async () => undefined, random: () => 0 };

/** A log that keeps quiet in tests. */
export const quietLog = { log: () => undefined, error: () => undefined };

/** The manifest every upstream image of {@link upstreamFetch} answers with. */
export const UPSTREAM_MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 },
  layers: [],
});

/**
 * A `fetch` that plays the registries outside the factory's (mcr.microsoft.com,
 * Docker Hub): `GET /v2/<repo>/manifests/<tag>` of an image in `images` answers
 * {@link UPSTREAM_MANIFEST}; anything else is 404.
 */
export function upstreamFetch(
  images: readonly string[] = ['mcr.microsoft.com/devcontainers/base:ubuntu', 'registry-1.docker.io/library/debian:12'],
): typeof fetch {
  return async (input) => {
    const url = new URL(String(input));
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (m && images.includes(`${url.host}/${m[1]}:${m[2]}`)) {
      return new Response(UPSTREAM_MANIFEST, { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    }
    return new Response('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', { status: 404 });
  };
}

/** The clients of the Prepare job, for tests that mock their SDK classes with aws-sdk-client-mock. */
export function prepareClients() {
  return {
    fetch: upstreamFetch(),
    codepipeline: new CodePipelineClient({ region: 'eu-west-1' }),
    ecr: new ECRClient({ region: 'eu-west-1' }),
    s3ClientFor: () => new S3Client({ region: 'eu-west-1' }),
    retry: noWait,
    log: quietLog,
  };
}
