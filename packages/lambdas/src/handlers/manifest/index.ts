/**
 * Manifest action of the image pipeline: puts the OCI image index `<build>` over
 * the per-arch images `<build>-<arch>` that the Build actions pushed, annotated
 * with the build's inputs as Prepare resolved them (its output artifact), and keeps
 * the uploaded configuration zip (the source artifact) beside the index as its
 * referrer, so that every release carries the exact configuration it was built from.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECRClient } from '@aws-sdk/client-ecr';
import { runJob, type JobOutcome } from '../../codepipeline/job-runner';
import {
  MAX_INPUTS_ARTIFACT_SIZE,
  manifestImage,
  manifestOutputVariables,
  manifestSummary,
  namedInputArtifact,
  parseInputsArtifact,
  parseManifestParameters,
  userParameters,
} from '@devcontainer-factory/core';
import { readInputArtifact } from '../../codepipeline/job-artifact';
import { EcrRegistry } from '../../registry/ecr-registry';
import type { ImageJobClients } from '../private/image-job-clients';

/** Runs one Manifest job and reports it to CodePipeline. */
export async function runManifestJob(event: unknown, clients: ImageJobClients): Promise<JobOutcome> {
  return runJob(event, clients, async (job) => {
    const params = parseManifestParameters(userParameters(job));
    const inputs = namedInputArtifact(job, params.inputsArtifact);
    const where = `s3://${inputs.location.s3Location.bucketName}/${inputs.location.s3Location.objectKey} (artifact ${inputs.name})`;
    const recorded = parseInputsArtifact(
      await readInputArtifact(job, clients.s3ClientFor, { name: params.inputsArtifact, maxSize: MAX_INPUTS_ARTIFACT_SIZE }),
      where,
    );
    const configuration = await readInputArtifact(job, clients.s3ClientFor, { name: params.sourceArtifact });
    const registry = new EcrRegistry({ client: clients.ecr, host: params.registryHost, retry: clients.retry, fetch: clients.fetch });
    const result = await manifestImage(registry, {
      repository: params.repository,
      buildId: params.buildId,
      platforms: params.platforms,
      inputs: recorded,
      configuration,
    });
    return { outputVariables: manifestOutputVariables(result), summary: manifestSummary(params.repository, params.buildId, result) };
  });
}

const clients: ImageJobClients = { codepipeline: new CodePipelineClient({}), ecr: new ECRClient({}) };

export const handler = async (event: unknown): Promise<void> => {
  await runManifestJob(event, clients);
};
