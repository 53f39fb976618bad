import { Duration } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import { RELEASE_GATE_ENVIRONMENT, formatReleaseGateSettings, type ReleaseParameters } from '@devcontainer-factory/core';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledgeNag, acknowledgeRegistryLogin, releaseWriterRolePath } from '@devcontainer-factory/warehouse';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';
import { JobFunction } from './job-function';
import { userParametersProblem } from './user-parameters';
import type { PrepareOutputs, StageContext } from './stage-context';

/** What promotion reads in staging: manifests, and blobs to mount or copy. */
const STAGING_READ_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] as const;
/**
 * What the vulnerability gate reads: scan findings, nothing else. It reads them where the
 * build is: in staging, or, once staging has expired a build that was released before (a
 * refresh in which nothing moved, an unchanged upload), in the release repository.
 */
const GATE_READ_ACTIONS = ['ecr:DescribeImageScanFindings'] as const;

/**
 * Release: a Lambda that promotes the tested build from the staging repository into
 * the release repository (blob mounts where the account allows them, else copies;
 * through ECR's registry endpoint, hence the registry login) and applies the tag
 * rules. It runs on every execution (also when Build, Manifest and Test were
 * skipped). Its role is the only one in the pipeline that can write the release
 * repository; it only reads staging. The role is under the namespace's image-release
 * path (`releaseWriterRolePath`), the only roles the warehouse's release repositories
 * take a push from.
 */
export function releaseStage(ctx: StageContext, prepare: PrepareOutputs): { stage: codepipeline.StageProps; job: JobFunction } {
  const job = new JobFunction(ctx.scope, 'ReleaseFunction', {
    handler: 'release',
    description: `devcontainer-factory: Release action of ${ctx.repository} (tags ${ctx.releaseTags.join(', ')})`,
    logGroup: ctx.logGroup,
    // Without blob mounting, promotion copies every layer in 8 MiB chunks through the
    // function: the most Lambda allows, and memory for its network share.
    timeout: Duration.minutes(15),
    memorySize: 1024,
    rolePath: releaseWriterRolePath(ctx.warehouse.namespace, 'image'),
    ...(ctx.releaseReservedConcurrency !== undefined && { reservedConcurrentExecutions: ctx.releaseReservedConcurrency }),
    ...(ctx.vulnerabilityGate && {
      environment: {
        [RELEASE_GATE_ENVIRONMENT]: formatReleaseGateSettings(
          { policy: ctx.vulnerabilityGate.policy, maxWaitSeconds: ctx.vulnerabilityGate.maxWaitSeconds },
          ctx.repository,
        ),
      },
    }),
  });
  ctx.warehouse.grantPush(job.role, ctx.repository);
  ctx.warehouse.grantRepositories(job.role, STAGING_READ_ACTIONS, ctx.stagingRepository);
  acknowledgeRegistryLogin(job.role);
  if (ctx.vulnerabilityGate) {
    ctx.warehouse.grantRepositories(job.role, GATE_READ_ACTIONS, ctx.stagingRepository, ctx.repository);
    if (ctx.vulnerabilityGate.enhancedScanning) {
      // ECR answers DescribeImageScanFindings of an enhanced scan from Amazon Inspector, with the caller's permission.
      job.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['inspector2:ListFindings'], resources: ['*'] }));
      acknowledgeNag(
        job.role,
        'IAM5',
        'inspector2:ListFindings supports no resource-level permissions; the gate reads the findings of its staging images only',
        'Resource::*',
      );
    }
  }

  const parameters: ReleaseParameters = {
    registryHost: ctx.warehouse.registryHost,
    repository: ctx.repository,
    stagingRepository: ctx.stagingRepository,
    buildId: prepare.buildId,
    version: prepare.version,
    rules: ctx.releaseTags,
  };
  const problem = userParametersProblem('Release', parameters);
  if (problem) throw new ImagePipelinePropsError(`${problem}: use a shorter namespace or image id`);
  return {
    stage: {
      stageName: 'Release',
      actions: [new actions.LambdaInvokeAction({ actionName: 'Release', lambda: job.function, userParameters: parameters, variablesNamespace: 'Release' })],
    },
    job,
  };
}
