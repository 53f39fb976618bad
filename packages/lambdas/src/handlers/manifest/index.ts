/**
 * Manifest action of the image pipeline: puts the OCI image index `<build>` over
 * the per-arch images `<build>-<arch>` that the Build actions pushed, annotated
 * with the build's inputs as Prepare resolved them.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECRClient } from '@aws-sdk/client-ecr';
import { runJob, type JobOutcome } from '../../codepipeline/job-runner';
import { INPUTS_ANNOTATION, formatInputRecord, parseInputRecord, MANIFEST_VARIABLES, parseManifestParameters, JobParametersError, userParameters, assembleIndex } from '@devcontainer-factory/core';
import { EcrRegistry } from '../../registry/ecr-registry';
import type { ImageJobClients } from '../private/image-job-clients';

/** Runs one Manifest job and reports it to CodePipeline. */
export async function runManifestJob(event: unknown, clients: ImageJobClients): Promise<JobOutcome> {
  return runJob(event, clients, async (job) => {
    const params = parseManifestParameters(userParameters(job));
    const registry = new EcrRegistry({ client: clients.ecr, host: params.registryHost, retry: clients.retry, fetch: clients.fetch });
    const record = parseInputRecord(params.inputs);
    if (!record) throw new JobParametersError(`UserParameters.inputs is not an input record of Prepare (configuration@sha256:… base:…@sha256:… …): ${params.inputs.slice(0, 200)}`);
    const index = await assembleIndex(registry, params.repository, params.buildId, params.platforms, { [INPUTS_ANNOTATION]: formatInputRecord(record) });
    const platforms = index.manifests.map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/'));
    return {
      outputVariables: { [MANIFEST_VARIABLES.indexDigest]: index.digest },
      summary: `${params.repository}:${params.buildId} is the image index ${index.digest} over ${platforms.join(', ')}`,
    };
  });
}

const clients: ImageJobClients = { codepipeline: new CodePipelineClient({}), ecr: new ECRClient({}) };

export const handler = async (event: unknown): Promise<void> => {
  await runManifestJob(event, clients);
};
