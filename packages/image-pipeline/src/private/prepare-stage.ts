import { Duration, Token } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import { PREPARE_VARIABLES, type PrepareParameters } from '@devcontainer-factory/core';
import { acknowledgeResourceWildcard } from '@devcontainer-factory/warehouse';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';
import { JobFunction } from './job-function';
import type { PrepareOutputs, StageContext } from './stage-context';

/**
 * Prepare: a Lambda that hashes the source zip and the base images' digests into
 * the build id, reads the version and says whether the build is released. It reads
 * the zip with the job's artifact credentials, so its role has no S3 access; it
 * only reads manifests and tags: of the image's release repository, and of what Build
 * may pull from the factory's registry (the `dependsOn` bases, the `usesFeatures`
 * features, the repositories of the pull-through cache prefixes).
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
  };
  checkUserParametersLength(parameters);
  const action = new actions.LambdaInvokeAction({
    actionName: 'Prepare',
    lambda: job.function,
    inputs: [ctx.source],
    userParameters: parameters,
    variablesNamespace: 'Prepare',
  });
  return {
    stage: { stageName: 'Prepare', actions: [action] },
    outputs: {
      buildId: action.variable(PREPARE_VARIABLES.buildId),
      version: action.variable(PREPARE_VARIABLES.version),
      released: action.variable(PREPARE_VARIABLES.released),
      inputs: action.variable(PREPARE_VARIABLES.inputs),
    },
    job,
  };
}

/** CodePipeline's limit on an action's `UserParameters`. */
export const MAX_USER_PARAMETERS_LENGTH = 1000;
/** Room kept for a registry host that is resolved at deploy time: `<12 digits>.dkr.ecr.<region>.amazonaws.com.cn` fits. */
const DEPLOY_TIME_HOST_LENGTH = 64;

/** Refuses, at synth, Prepare parameters that CodePipeline would refuse at deploy time. */
function checkUserParametersLength(parameters: PrepareParameters): void {
  const hostLength = Token.isUnresolved(parameters.registryHost) ? DEPLOY_TIME_HOST_LENGTH : parameters.registryHost.length;
  const length = JSON.stringify({ ...parameters, registryHost: '' }).length + hostLength;
  if (length > MAX_USER_PARAMETERS_LENGTH) {
    throw new ImagePipelinePropsError(
      `dependsOn of ${parameters.repository} names ${parameters.baseRepositories.length} base images, whose repository names make the Prepare action's parameters ${length} characters long; CodePipeline allows ${MAX_USER_PARAMETERS_LENGTH}: build on fewer factory images (one base that itself depends on the others), or use shorter ids`,
    );
  }
}
