import { Duration } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import { PREPARE_VARIABLES, type PrepareParameters } from '@devcontainer-factory/core';
import { acknowledgeResourceWildcard } from '@devcontainer-factory/warehouse';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';
import { JobFunction } from './job-function';
import type { PrepareOutputs, StageContext } from './stage-context';
import { MAX_CONFIGURATION_VALUE_LENGTH, resolvedParametersLength } from './user-parameters';

/** The Prepare action's variable namespace. */
const PREPARE_NAMESPACE = 'Prepare';

/** The name of Prepare's output artifact: the build's input record (`inputsArtifactBytes`). */
export const PREPARE_INPUTS_ARTIFACT = 'Inputs';

/**
 * Prepare: a Lambda that hashes the source zip and the base images' digests into
 * the build id, reads the version and says whether the build is released. It reads
 * the zip with the job's artifact credentials, so its role has no S3 access; it
 * only reads manifests and tags: of the image's release repository, and of what Build
 * may pull from the factory's registry (the `dependsOn` bases, the `usesFeatures`
 * features, the repositories of the pull-through cache prefixes). It writes the build's
 * input record as its output artifact, which Manifest and Build read, with the same
 * credentials (CodePipeline's role may write the pipeline's artifacts; the function's role
 * may not).
 */
export function prepareStage(ctx: StageContext): { stage: codepipeline.StageProps; outputs: PrepareOutputs; job: JobFunction } {
  const job = new JobFunction(ctx.scope, 'PrepareFunction', {
    handler: 'prepare',
    description: `devcontainer-factory: Prepare action of ${ctx.repository} (build id, version, released?)`,
    logGroup: ctx.logGroup,
    // The zip is read into memory (50 MiB at most) and hashed.
    memorySize: 512,
    timeout: Duration.minutes(2),
  });
  // The configuration names its inputs in the factory's registry as ${localEnv:DCF_REGISTRY}/<ns>/…, and
  // Prepare resolves each to its digest. It may read what Build may pull there, and nothing else: an
  // input Build could not pull fails in Prepare instead, naming the reference. Reading manifests and
  // tags is all it can do.
  const pullThrough = ctx.pullThroughPrefixes.map((prefix) => `${prefix}/*`);
  ctx.warehouse.grantReadManifests(job.role, ctx.repository, ...ctx.baseRepositories, ...ctx.featureRepositories, ...pullThrough);
  for (const repositories of pullThrough) {
    acknowledgeResourceWildcard(
      job.role,
      ctx.warehouse.repositoryArn(repositories),
      `ECR creates one repository per upstream image under the pull-through cache prefix ${repositories.slice(0, -2)}/: Prepare may read manifests and tags (no layers, no writes) of the upstream images Build may pull through it`,
    );
  }

  const parameters: PrepareParameters = {
    registryHost: ctx.warehouse.registryHost,
    repository: ctx.repository,
    baseRepositories: ctx.baseRepositories,
    namespace: ctx.warehouse.namespace,
    ...(ctx.dockerHubCachePrefix !== undefined && { dockerHubCachePrefix: ctx.dockerHubCachePrefix }),
  };
  checkUserParametersLength(parameters);
  // The build's input record, for Manifest and Build: too long for a variable once resolved into their configuration.
  const inputsArtifact = new codepipeline.Artifact(PREPARE_INPUTS_ARTIFACT);
  const action = new actions.LambdaInvokeAction({
    actionName: 'Prepare',
    lambda: job.function,
    inputs: [ctx.source],
    outputs: [inputsArtifact],
    userParameters: parameters,
    variablesNamespace: PREPARE_NAMESPACE,
  });
  // The variables' expressions as text (`#{Prepare.BuildId}`), not CDK's tokens of them: the
  // length checks of the later actions' configuration values read them at construction.
  const variable = (name: string) => `#{${PREPARE_NAMESPACE}.${name}}`;
  return {
    stage: { stageName: 'Prepare', actions: [action] },
    outputs: {
      buildId: variable(PREPARE_VARIABLES.buildId),
      version: variable(PREPARE_VARIABLES.version),
      released: variable(PREPARE_VARIABLES.released),
      inputsArtifact,
    },
    job,
  };
}

/** Refuses, at synth, Prepare parameters that CodePipeline would refuse at deploy time. */
function checkUserParametersLength(parameters: PrepareParameters): void {
  const length = resolvedParametersLength(parameters, 'Prepare');
  if (length > MAX_CONFIGURATION_VALUE_LENGTH) {
    throw new ImagePipelinePropsError(
      `dependsOn of ${parameters.repository} names ${parameters.baseRepositories.length} base images, whose repository names make the Prepare action's parameters ${length} characters long; CodePipeline allows ${MAX_CONFIGURATION_VALUE_LENGTH}: build on fewer factory images (one base that itself depends on the others), or use shorter ids`,
    );
  }
}
