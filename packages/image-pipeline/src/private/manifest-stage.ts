import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type { ManifestParameters } from '@devcontainer-factory/core';
import { JobFunction } from './job-function';
import { skipWhenReleased } from './skip-when-released';
import type { PrepareOutputs, StageContext } from './stage-context';

/** What `assembleIndex` calls: read `<build>-<arch>` and its config, put `<build>`. */
const MANIFEST_ECR_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:PutImage'] as const;

/**
 * Manifest: a Lambda (no CodeBuild) that reads the per-arch manifests and their
 * configs from the staging repository and puts the OCI image index `<build>` there.
 * Its role reads manifests and configs and puts manifests in staging only; it cannot
 * upload layers.
 */
export function manifestStage(ctx: StageContext, prepare: PrepareOutputs): { stage: codepipeline.StageProps; job: JobFunction } {
  const job = new JobFunction(ctx.scope, 'ManifestFunction', {
    handler: 'manifest',
    description: `devcontainer-factory: Manifest action of ${ctx.repository} (OCI image index <build>)`,
    logGroup: ctx.logGroup,
  });
  ctx.warehouse.grantRepositories(job.role, MANIFEST_ECR_ACTIONS, ctx.stagingRepository);

  const parameters: ManifestParameters = {
    registryHost: ctx.warehouse.registryHost,
    repository: ctx.stagingRepository,
    buildId: prepare.buildId,
    platforms: ctx.platforms,
    inputs: prepare.inputs,
  };
  return {
    stage: {
      stageName: 'Manifest',
      beforeEntry: skipWhenReleased('Manifest', prepare.released),
      actions: [new actions.LambdaInvokeAction({ actionName: 'Manifest', lambda: job.function, userParameters: parameters, variablesNamespace: 'Manifest' })],
    },
    job,
  };
}
