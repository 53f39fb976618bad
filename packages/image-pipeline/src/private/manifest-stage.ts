import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type { ManifestParameters } from '@devcontainer-factory/lambdas';
import { acknowledgeRegistryLogin } from '@devcontainer-factory/warehouse';
import { JobFunction } from './job-function';
import { skipWhenReleased } from './skip-when-released';
import type { PrepareOutputs, StageContext } from './stage-context';

/**
 * Manifest: a Lambda (no CodeBuild) that reads the per-arch manifests and their
 * configs from ECR and puts the OCI image index `<build>`. Its role reads the
 * image's repository and puts manifests; it cannot upload layers.
 */
export function manifestStage(ctx: StageContext, prepare: PrepareOutputs): { stage: codepipeline.StageProps; job: JobFunction } {
  const job = new JobFunction(ctx.scope, 'ManifestFunction', {
    handler: 'manifest',
    description: `devcontainer-factory: Manifest action of ${ctx.repository} (OCI image index <build>)`,
    logGroup: ctx.logGroup,
  });
  ctx.warehouse.grantPull(job.role, ctx.repository);
  ctx.warehouse.grantRetag(job.role, ctx.repository);
  acknowledgeRegistryLogin(job.role);

  const parameters: ManifestParameters = {
    registryHost: ctx.warehouse.registryHost,
    repository: ctx.repository,
    buildId: prepare.buildId,
    platforms: ctx.platforms,
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
