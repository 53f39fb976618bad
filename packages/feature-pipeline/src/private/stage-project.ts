import { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PROJECT_CONCURRENT_BUILD_LIMIT, PROJECT_QUEUED_TIMEOUT, artifactReaderRole } from '@devcontainer-factory/pipeline-parts';
import type { FeatureComputeSize } from '../feature-pipeline-options';
import type { FeatureSpecOptions } from './buildspecs';
import type { StageContext } from './stage-context';

const COMPUTE_TYPES: Readonly<Record<FeatureComputeSize, codebuild.ComputeType>> = {
  small: codebuild.ComputeType.SMALL,
  medium: codebuild.ComputeType.MEDIUM,
  large: codebuild.ComputeType.LARGE,
};

/** Amazon Linux 2023 standard image of CodeBuild: Docker, Node.js 22, AWS CLI. */
export const FEATURE_BUILD_IMAGE = codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5;

/** Longest run of a stage before CodeBuild stops it. */
export const STAGE_TIMEOUT = Duration.minutes(30);

/**
 * A CodeBuild project of one stage, under the stage's own role: it reads the
 * pipeline's artifacts (and decrypts them; nothing else of the artifact bucket) and
 * the feature tool, logs to the pipeline's log group,
 * and encrypts with the warehouse's S3 key. Its buildspec gets the values both
 * stages share (registry, namespace, feature id, CLI version, tool location).
 */
export function stageProject(
  ctx: StageContext,
  props: {
    readonly id: string;
    readonly description: string;
    readonly role: iam.Role;
    readonly buildSpec: (o: FeatureSpecOptions) => codebuild.BuildSpec;
    readonly privileged: boolean;
  },
): codebuild.PipelineProject {
  const project = new codebuild.PipelineProject(ctx.scope, props.id, {
    description: props.description,
    // A view of the role that takes none of CDK's default grants (whole artifact bucket, encrypt).
    role: artifactReaderRole(props.role, { warehouse: ctx.warehouse, pipelineName: ctx.pipelineName, logGroup: ctx.logGroup }),
    environment: { buildImage: FEATURE_BUILD_IMAGE, computeType: COMPUTE_TYPES[ctx.computeSize], privileged: props.privileged },
    buildSpec: props.buildSpec({
      registryHost: ctx.warehouse.registryHost,
      namespace: ctx.warehouse.namespace,
      featureId: ctx.featureId,
      devcontainerCliVersion: ctx.devcontainerCliVersion,
      devcontainerCliIntegrity: ctx.devcontainerCliIntegrity,
      toolBucket: ctx.tool.s3BucketName,
      toolKey: ctx.tool.s3ObjectKey,
    }),
    encryptionKey: ctx.warehouse.s3Key,
    logging: { cloudWatch: { logGroup: ctx.logGroup, prefix: props.id.toLowerCase() } },
    timeout: STAGE_TIMEOUT,
    queuedTimeout: PROJECT_QUEUED_TIMEOUT,
    concurrentBuildLimit: PROJECT_CONCURRENT_BUILD_LIMIT,
  });
  // The feature tool's one object (CDK's asset grant would read and list the whole asset bucket of the account).
  props.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [ctx.tool.bucket.arnForObjects(ctx.tool.s3ObjectKey)] }));
  return project;
}
