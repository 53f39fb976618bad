import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ManifestParameters } from '@devcontainer-factory/core';
import { acknowledgeRegistryLogin } from '@devcontainer-factory/warehouse';
import { ImagePipelinePropsError } from '../image-pipeline-props-error';
import { JobFunction } from './job-function';
import { skipWhenReleased } from './skip-when-released';
import type { PrepareOutputs, StageContext } from './stage-context';
import { userParametersProblem } from './user-parameters';

/**
 * What Manifest calls in staging: read `<build>-<arch>` and its config, put `<build>`
 * (`assembleIndex`), and put the configuration zip beside it as its referrer: upload the
 * zip (and the empty config) as blobs through ECR's OCI endpoint, put the artifact manifest
 * and the referrers fallback tag.
 */
const MANIFEST_ECR_ACTIONS = [
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:PutImage',
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
] as const;
/** The registry login of ECR's OCI endpoint, through which the blobs go up; ECR allows no narrower resource. */
const REGISTRY_LOGIN_ACTIONS = ['ecr:GetAuthorizationToken'] as const;

/**
 * Manifest: a Lambda (no CodeBuild) that reads the per-arch manifests and their
 * configs from the staging repository, puts the OCI image index `<build>` there,
 * annotated with the build's input record (Prepare's output artifact), and keeps the
 * uploaded configuration zip (the source artifact) beside it as its referrer, which
 * Release promotes with the index. It reads both artifacts with the job's artifact
 * credentials, so its role has no S3 access; it writes the staging repository only.
 */
export function manifestStage(ctx: StageContext, prepare: PrepareOutputs): { stage: codepipeline.StageProps; job: JobFunction } {
  const job = new JobFunction(ctx.scope, 'ManifestFunction', {
    handler: 'manifest',
    description: `devcontainer-factory: Manifest action of ${ctx.repository} (OCI image index <build>, with its configuration)`,
    logGroup: ctx.logGroup,
    // The configuration zip (50 MiB at most) is read into memory, hashed and uploaded, as in Prepare.
    memorySize: 512,
  });
  ctx.warehouse.grantRepositories(job.role, MANIFEST_ECR_ACTIONS, ctx.stagingRepository);
  job.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...REGISTRY_LOGIN_ACTIONS], resources: ['*'] }));
  acknowledgeRegistryLogin(job.role);

  const parameters: ManifestParameters = {
    registryHost: ctx.warehouse.registryHost,
    repository: ctx.stagingRepository,
    buildId: prepare.buildId,
    platforms: ctx.platforms,
    sourceArtifact: ctx.source.artifactName!,
    inputsArtifact: prepare.inputsArtifact.artifactName!,
  };
  const problem = userParametersProblem('Manifest', parameters);
  if (problem) throw new ImagePipelinePropsError(`${problem}: use a shorter namespace or image id`);
  return {
    stage: {
      stageName: 'Manifest',
      beforeEntry: skipWhenReleased('Manifest', prepare.released),
      actions: [
        new actions.LambdaInvokeAction({
          actionName: 'Manifest',
          lambda: job.function,
          inputs: [ctx.source, prepare.inputsArtifact],
          userParameters: parameters,
          variablesNamespace: 'Manifest',
        }),
      ],
    },
    job,
  };
}
