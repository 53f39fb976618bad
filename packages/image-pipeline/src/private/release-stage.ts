import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type { ReleaseParameters } from '@devcontainer-factory/lambdas';
import { JobFunction } from './job-function';
import type { PrepareOutputs, StageContext } from './stage-context';

/**
 * Release: a Lambda that applies the tag rules to the tested index. It runs on
 * every execution (also when Build, Manifest and Test were skipped), and its role
 * can only move tags between manifests already in the repository.
 */
export function releaseStage(ctx: StageContext, prepare: PrepareOutputs): { stage: codepipeline.StageProps; job: JobFunction } {
  const job = new JobFunction(ctx.scope, 'ReleaseFunction', {
    handler: 'release',
    description: `devcontainer-factory: Release action of ${ctx.repository} (tags ${ctx.releaseTags.join(', ')})`,
    logGroup: ctx.logGroup,
  });
  ctx.warehouse.grantRetag(job.role, ctx.repository);

  const parameters: ReleaseParameters = {
    registryHost: ctx.warehouse.registryHost,
    repository: ctx.repository,
    buildId: prepare.buildId,
    version: prepare.version,
    rules: ctx.releaseTags,
  };
  return {
    stage: {
      stageName: 'Release',
      actions: [new actions.LambdaInvokeAction({ actionName: 'Release', lambda: job.function, userParameters: parameters, variablesNamespace: 'Release' })],
    },
    job,
  };
}
