/**
 * Prepare action of the image pipeline: computes the build id from the source
 * zip and the digests of every input (the dependsOn bases, the base images and
 * features the configuration names), reads the version, says whether the build is
 * already released (then Build, Manifest and Test are skipped) and, if not, what
 * moved since the release `latest` points at. The build's input record goes to
 * Manifest as the action's output artifact (too long for a variable Manifest's
 * configuration could hold); the short values are output variables.
 */
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECRClient } from '@aws-sdk/client-ecr';
import { readInputArtifact, writeOutputArtifact } from '../../codepipeline/job-artifact';
import {
  inputsArtifactBytes,
  userParameters,
  parsePrepareParameters,
  prepareImage,
  prepareOutputVariables,
  prepareSummary,
  OciRegistry,
} from '@devcontainer-factory/core';
import { runJob, type JobOutcome } from '../../codepipeline/job-runner';
import { EcrRegistry } from '../../registry/ecr-registry';
import type { ImageJobClients } from '../private/image-job-clients';

/** Runs one Prepare job and reports it to CodePipeline. */
export async function runPrepareJob(event: unknown, clients: ImageJobClients): Promise<JobOutcome> {
  return runJob(event, clients, async (job) => {
    const params = parsePrepareParameters(userParameters(job));
    const zip = await readInputArtifact(job, clients.s3ClientFor);
    const registry = new EcrRegistry({ client: clients.ecr, host: params.registryHost, retry: clients.retry, fetch: clients.fetch });
    const prepared = await prepareImage(registry, {
      zip,
      repository: params.repository,
      baseRepositories: params.baseRepositories,
      namespace: params.namespace,
      dockerHubCachePrefix: params.dockerHubCachePrefix,
      // Base images and features from other registries (mcr.microsoft.com, ghcr.io, …), anonymously.
      registryFor: (host) => new OciRegistry({ host, retry: clients.retry, fetch: clients.fetch }),
    });
    // Written also for a released build (Manifest is skipped then): the action's output is always there.
    await writeOutputArtifact(job, inputsArtifactBytes(prepared.record), clients.s3ClientFor);
    const version = prepared.source.version ? `version ${prepared.source.version}` : 'no version';
    const state = prepared.released ? 'already released: Build, Manifest and Test are skipped' : 'not released yet: building';
    return {
      outputVariables: prepareOutputVariables(prepared),
      summary: `${params.repository} (${version}, ${prepared.inputs.length} inputs): ${prepareSummary(prepared)}; ${state}`,
    };
  });
}

const clients: ImageJobClients = { codepipeline: new CodePipelineClient({}), ecr: new ECRClient({}) };

export const handler = async (event: unknown): Promise<void> => {
  await runPrepareJob(event, clients);
};
