import { Duration } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import { PREPARE_VARIABLES, type PrepareParameters } from '@devcontainer-factory/lambdas';
import { acknowledgeRegistryLogin } from '@devcontainer-factory/warehouse';
import { JobFunction } from './job-function';
import type { PrepareOutputs, StageContext } from './stage-context';

/**
 * Prepare: a Lambda that hashes the source zip and the base images' digests into
 * the build id, reads the version and says whether the build is released. It reads
 * the zip with the job's artifact credentials, so its role has no S3 access; it
 * can only read (pull) the image's and the base images' repositories.
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
  ctx.warehouse.grantPull(job.role, ctx.repository, ...ctx.baseRepositories);
  acknowledgeRegistryLogin(job.role);

  const parameters: PrepareParameters = {
    registryHost: ctx.warehouse.registryHost,
    repository: ctx.repository,
    baseRepositories: ctx.baseRepositories,
  };
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
    },
    job,
  };
}
