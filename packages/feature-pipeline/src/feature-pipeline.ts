import { join } from 'node:path';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { InvalidNameError, atConstructPath, pipelineName, propsError } from '@devcontainer-factory/core';
import { FEATURE_TOOL, bundleDir } from '@devcontainer-factory/lambdas';
import { addUploadPipeline, pipelineLogGroup, type PipelineResourceProps } from '@devcontainer-factory/pipeline-parts';
import { pipelineWarehouse, type IWarehouse } from '@devcontainer-factory/warehouse';
import { FeaturePipelinePropsError } from './feature-pipeline-props-error';
import { type FeatureComputeSize } from './feature-pipeline-options';
import { approvalStage, grantApprove, type ApprovalProps } from './private/approval-stage';
import { publishStage } from './private/publish-stage';
import type { StageContext } from './private/stage-context';
import { resolveFeaturePipelineProps, type ResolvedFeaturePipelineProps } from './private/resolve-props';
import { testStage } from './private/test-stage';

export interface FeaturePipelineProps extends PipelineResourceProps, ApprovalProps {
  /** The feature id: its source is `<ns>/features/<id>.zip`, its repository `<ns>/features/<id>`. */
  readonly featureId: string;
  /**
   * The warehouse of the namespace: source and artifact buckets, keys, registry
   * (`Warehouse.fromNamespace`, a `Warehouse` of the same app, or
   * `Warehouse.fromWarehouseAttributes`). Give either this or your own `sourceBucket`
   * (and `artifactBucket`), not both.
   * @default - none: `sourceBucket` is required instead
   */
  readonly warehouse?: IWarehouse;
  /**
   * Prefix of the source key (`<ns>/features/<id>.zip`), the default pipeline name
   * (`<ns>-feature-<id>`) and the repositories Publish pushes to: the feature's
   * `<ns>/features/<id>` and the collection's `<ns>/features` (the repository prefix of
   * the namespace's features). Without a warehouse those repositories must exist, or be
   * created on push by a repository creation template of yours. With a warehouse, it
   * must be the warehouse's (or left out).
   * @default - the warehouse's namespace, else 'devcontainers'
   */
  readonly namespace?: string;
  /**
   * The exact `@devcontainers/cli` version Test and Publish install.
   * @default '0.89.0' (the version the factory's publish tests run)
   */
  readonly devcontainerCliVersion?: string;
  /**
   * The npm integrity of that version's tarball (`npm view @devcontainers/cli@<version> dist.integrity`):
   * Test and Publish refuse to install a tarball with another SHA-512. Required with another `devcontainerCliVersion`.
   * @default - the integrity of 0.89.0 that the factory pins
   */
  readonly devcontainerCliIntegrity?: string;
  /**
   * CodeBuild compute of the Test and Publish projects.
   * @default 'small' (2 vCPU, 4 GiB)
   */
  readonly computeSize?: FeatureComputeSize;
}

/**
 * The pipeline of one devcontainer feature (CodePipeline V2), started by an
 * upload of `<ns>/features/<id>.zip`:
 *
 * Source → Test (CodeBuild: validation, `devcontainer features test`) → Publish
 * (CodeBuild: version guard, `devcontainer features publish` to
 * `<ns>/features/<id>` with `X.Y.Z`, `X.Y`, `X`, `latest`, and the collection
 * metadata in `<ns>/features`). With `approval`, an Approval stage (a person, see
 * {@link grantApprove}) comes between Test and Publish.
 */
export class FeaturePipeline extends Construct {
  public readonly pipeline: codepipeline.Pipeline;
  /** `<ns>/features/<id>`. */
  public readonly repositoryName: string;
  /** The rule that starts the pipeline on an upload of its source key. */
  public readonly sourceRule: events.Rule;
  /** The rule that sends each failed action (a version that was not bumped among them) to the failure topic; absent without one. */
  public readonly failureRule?: events.Rule;
  /** Where the CodeBuild projects log. */
  public readonly logGroup: logs.ILogGroup;
  /** The warehouse the pipeline works with: the one it was given, or a view over its own resources. */
  public readonly warehouse: IWarehouse;
  /** The Test stage's role: pulls, never pushes. */
  public readonly testRole: iam.IRole;
  /** The Publish stage's role: pushes to the feature's repository and the collection's. */
  public readonly publishRole: iam.IRole;
  /** The pipeline's name when it has an approval stage (see {@link grantApprove}). */
  private readonly approvalPipelineName?: string;

  constructor(scope: Construct, id: string, props: FeaturePipelineProps) {
    super(scope, id);
    if (!props)
      throw propsError(this.node.path, FeaturePipelinePropsError, 'props are missing: pass at least featureId, and a warehouse or your own sourceBucket');
    let settings: ResolvedFeaturePipelineProps;
    try {
      settings = resolveFeaturePipelineProps(props);
    } catch (error) {
      throw atConstructPath(this.node.path, error, FeaturePipelinePropsError, [InvalidNameError]);
    }
    const { featureId, removalPolicy, computeSize, devcontainerCliVersion } = settings;
    const warehouse = pipelineWarehouse(this, {
      warehouse: props.warehouse,
      namespace: props.namespace,
      sourceBucket: props.sourceBucket,
      encryptionKey: props.encryptionKey,
      artifactBucket: props.artifactBucket,
      failureTopic: props.failureTopic,
      removalPolicy,
      error: (message) => new FeaturePipelinePropsError(message),
    });
    this.warehouse = warehouse;
    const name = props.pipelineName ?? pipelineName(warehouse.namespace, 'feature', featureId);

    this.repositoryName = warehouse.repositoryName('feature', featureId);
    this.logGroup = pipelineLogGroup(this, props, removalPolicy);
    const source = new codepipeline.Artifact('Source');
    const ctx: StageContext = {
      scope: this,
      warehouse,
      featureId,
      pipelineName: name,
      repository: this.repositoryName,
      collectionRepository: warehouse.featureCollectionRepositoryName,
      computeSize,
      devcontainerCliVersion,
      ...(props.devcontainerCliIntegrity !== undefined && { devcontainerCliIntegrity: props.devcontainerCliIntegrity }),
      logGroup: this.logGroup,
      source,
      tool: new s3assets.Asset(this, 'FeatureTool', { path: join(bundleDir(FEATURE_TOOL), 'index.js') }),
    };

    const test = testStage(ctx);
    const publish = publishStage(ctx);
    const approval = approvalStage(ctx, props);
    if (approval) this.approvalPipelineName = name;
    this.testRole = test.role;
    this.publishRole = publish.role;
    const { pipeline, sourceRule, failureRule } = addUploadPipeline(this, {
      warehouse,
      kind: 'feature',
      artifactId: featureId,
      pipelineName: name,
      source,
      stages: [test.stage, ...(approval ? [approval] : []), publish.stage],
      // Every upload is a version someone wants published: runs wait for each other, none is dropped.
      executionMode: codepipeline.ExecutionMode.QUEUED,
    });
    this.pipeline = pipeline;
    this.sourceRule = sourceRule;
    this.failureRule = failureRule;
  }

  /**
   * Let a role or user approve or reject this feature's versions (with `approval`):
   * `codepipeline:PutApprovalResult` on `<pipeline>/Approval/Approve` and the pipeline's
   * state, which holds the token that takes. Throws for a pipeline without `approval`.
   */
  public grantApprove(grantee: iam.IGrantable): iam.Grant {
    if (this.approvalPipelineName === undefined)
      throw propsError(this.node.path, FeaturePipelinePropsError, `grantApprove: the pipeline has no approval to approve: pass approval: true`);
    return grantApprove(this, grantee, this.approvalPipelineName);
  }
}
