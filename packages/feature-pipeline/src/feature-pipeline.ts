import { join } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { isSemver, pipelineName, validateId } from '@devcontainer-factory/core';
import { FEATURE_TOOL, bundleDir } from '@devcontainer-factory/lambdas';
import { addUploadPipeline } from '@devcontainer-factory/pipeline-parts';
import { type IWarehouse } from '@devcontainer-factory/warehouse';
import { DEFAULT_FEATURE_COMPUTE_SIZE, DEFAULT_FEATURE_DEVCONTAINER_CLI_VERSION, FEATURE_COMPUTE_SIZES, type FeatureComputeSize } from './feature-pipeline-options';
import { publishStage } from './private/publish-stage';
import type { StageContext } from './private/stage-context';
import { testStage } from './private/test-stage';

export interface FeaturePipelineProps {
  /** The warehouse of the namespace: source and artifact buckets, keys, registry. */
  readonly warehouse: IWarehouse;
  /** The feature id: its source is `<ns>/features/<id>.zip`, its repository `<ns>/features/<id>`. */
  readonly featureId: string;
  /**
   * The exact `@devcontainers/cli` version Test and Publish install.
   * @default '0.89.0' (the version the factory's publish tests run)
   */
  readonly devcontainerCliVersion?: string;
  /**
   * CodeBuild compute of the Test and Publish projects.
   * @default 'small' (2 vCPU, 4 GiB)
   */
  readonly computeSize?: FeatureComputeSize;
}

/** Thrown for props a feature pipeline cannot be built from; the message says what to change. */
export class FeaturePipelinePropsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FeaturePipelinePropsError';
  }
}

/**
 * The pipeline of one devcontainer feature (CodePipeline V2), started by an
 * upload of `<ns>/features/<id>.zip`:
 *
 * Source → Test (CodeBuild: validation, `devcontainer features test`) → Publish
 * (CodeBuild: version guard, `devcontainer features publish` to
 * `<ns>/features/<id>` with `X.Y.Z`, `X.Y`, `X`, `latest`, and the collection
 * metadata in `<ns>/features`).
 */
export class FeaturePipeline extends Construct {
  public readonly pipeline: codepipeline.Pipeline;
  /** `<ns>/features/<id>`. */
  public readonly repositoryName: string;
  /** The rule that starts the pipeline on an upload of its source key. */
  public readonly sourceRule: events.Rule;
  /** Where the CodeBuild projects log. */
  public readonly logGroup: logs.LogGroup;
  /** The Test stage's role: pulls, never pushes. */
  public readonly testRole: iam.IRole;
  /** The Publish stage's role: pushes to the feature's repository and the collection's. */
  public readonly publishRole: iam.IRole;

  constructor(scope: Construct, id: string, props: FeaturePipelineProps) {
    super(scope, id);
    if (!props?.warehouse) {
      throw new FeaturePipelinePropsError(
        `${this.node.path}: warehouse is missing: pass the namespace's warehouse, e.g. Warehouse.fromNamespace(this, 'Warehouse', 'devcontainers'), or your own buckets and keys with Warehouse.fromWarehouseAttributes(this, 'Warehouse', { namespace, sourceBucket, artifactBucket, ecrKey })`,
      );
    }
    const featureId = validateId(props.featureId, 'feature id');
    const warehouse = props.warehouse;
    const computeSize = props.computeSize ?? DEFAULT_FEATURE_COMPUTE_SIZE;
    if (!FEATURE_COMPUTE_SIZES.includes(computeSize)) {
      throw new FeaturePipelinePropsError(`computeSize '${computeSize}' is unknown: use ${FEATURE_COMPUTE_SIZES.join(', ')}`);
    }
    const devcontainerCliVersion = props.devcontainerCliVersion ?? DEFAULT_FEATURE_DEVCONTAINER_CLI_VERSION;
    if (!isSemver(devcontainerCliVersion)) {
      throw new FeaturePipelinePropsError(
        `devcontainerCliVersion '${devcontainerCliVersion}' must be an exact version such as ${DEFAULT_FEATURE_DEVCONTAINER_CLI_VERSION}, so that every run publishes with the same CLI`,
      );
    }

    this.repositoryName = warehouse.repositoryName('feature', featureId);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.RETAIN });
    const source = new codepipeline.Artifact('Source');
    const ctx: StageContext = {
      scope: this,
      warehouse,
      featureId,
      pipelineName: pipelineName(warehouse.namespace, 'feature', featureId),
      repository: this.repositoryName,
      collectionRepository: warehouse.featureCollectionRepositoryName,
      computeSize,
      devcontainerCliVersion,
      logGroup: this.logGroup,
      source,
      tool: new s3assets.Asset(this, 'FeatureTool', { path: join(bundleDir(FEATURE_TOOL), 'index.js') }),
    };

    const test = testStage(ctx);
    const publish = publishStage(ctx);
    this.testRole = test.role;
    this.publishRole = publish.role;
    const { pipeline, sourceRule } = addUploadPipeline(this, {
      warehouse,
      kind: 'feature',
      artifactId: featureId,
      source,
      stages: [test.stage, publish.stage],
      // Every upload is a version someone wants published: runs wait for each other, none is dropped.
      executionMode: codepipeline.ExecutionMode.QUEUED,
    });
    this.pipeline = pipeline;
    this.sourceRule = sourceRule;
  }
}
