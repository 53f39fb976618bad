import { join } from 'node:path';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { InvalidNameError, atConstructPath, pipelineName, propsError } from '@devcontainer-factory/core';
import { FEATURE_TOOL, bundleDir } from '@devcontainer-factory/lambdas';
import { addUploadPipeline, pipelineLogGroup, type PipelineResourceProps } from '@devcontainer-factory/pipeline-parts';
import { grantDcfPipeline, pipelineWarehouse, type DcfPipelineTarget, type IWarehouse } from '@devcontainer-factory/warehouse';
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
   * The feature's repository, of your own (its encryption, scanning, lifecycle and
   * policy are yours): Publish pushes the feature there, and its grants go to this
   * repository's ARN. `devcontainer features publish` puts a feature of the collection
   * `<ns>/features` at `<ns>/features/<id>`, so its name must be that. Not with a
   * warehouse, whose creation template makes it.
   * @default - `<ns>/features/<id>`, which must exist or be created on push
   */
  readonly repository?: ecr.IRepository;
  /**
   * The collection's repository `<ns>/features`, of your own: Publish pushes the
   * collection metadata (every feature of the namespace) there. Not with a warehouse.
   * @default - `<ns>/features`, which must exist or be created on push
   */
  readonly collectionRepository?: ecr.IRepository;
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
  /** The feature id: its source is `<ns>/features/<id>.zip`. */
  public readonly featureId: string;
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
    this.featureId = featureId;
    const warehouse = pipelineWarehouse(this, {
      warehouse: props.warehouse,
      namespace: props.namespace,
      sourceBucket: props.sourceBucket,
      encryptionKey: props.encryptionKey,
      artifactBucket: props.artifactBucket,
      failureTopic: props.failureTopic,
      repositories: [props.repository, props.collectionRepository].filter((r): r is ecr.IRepository => r !== undefined),
      otherResources: { repository: props.repository, collectionRepository: props.collectionRepository },
      removalPolicy,
      error: (message) => new FeaturePipelinePropsError(message),
    });
    // The devcontainer CLI's layout: the collection <ns>/features, each feature below it.
    for (const [prop, repository, expected] of [
      ['repository', props.repository, warehouse.repositoryName('feature', featureId)],
      ['collectionRepository', props.collectionRepository, warehouse.featureCollectionRepositoryName],
    ] as const) {
      const given = repository && literalRepositoryName(repository);
      if (given !== undefined && given !== expected) {
        throw propsError(
          this.node.path,
          FeaturePipelinePropsError,
          `${prop} is named '${given}', but devcontainer features publish puts ${prop === 'repository' ? `the feature '${featureId}'` : 'the collection'} of namespace '${warehouse.namespace}' at '${expected}': name it that, or set namespace to match it`,
        );
      }
    }
    this.warehouse = warehouse;
    const name = props.pipelineName ?? pipelineName(warehouse.namespace, 'feature', featureId);

    // The team's repositories by their own names (a grant by it goes to their ARN), else the namespace's.
    this.repositoryName = props.repository?.repositoryName ?? warehouse.repositoryName('feature', featureId);
    this.logGroup = pipelineLogGroup(this, props, removalPolicy);
    const source = new codepipeline.Artifact('Source');
    const ctx: StageContext = {
      scope: this,
      warehouse,
      featureId,
      pipelineName: name,
      repository: this.repositoryName,
      collectionRepository: props.collectionRepository?.repositoryName ?? warehouse.featureCollectionRepositoryName,
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
   * Let a role or user ship this feature's configuration and follow it, as `dcf push --wait`
   * does: upload `<ns>/features/<id>.zip` (encrypted with the source bucket's key, and let
   * through the warehouse's source bucket policy), plus {@link grantWatch}. Nothing of
   * another feature, no delete.
   */
  public grantPushConfiguration(grantee: iam.IGrantable): iam.Grant {
    return grantDcfPipeline('push', this.warehouse, grantee, this.dcfTarget());
  }

  /**
   * Let a role or user follow this pipeline as `dcf status` and `dcf push --wait` do: the
   * warehouse's parameters, the list of pipelines, this pipeline's state, executions and
   * action executions, and whether this feature's configuration was uploaded. No write.
   */
  public grantWatch(grantee: iam.IGrantable): iam.Grant {
    return grantDcfPipeline('watch', this.warehouse, grantee, this.dcfTarget());
  }

  /**
   * Let a role or user read this feature's releases as `dcf tags`, `dcf sbom` and
   * `dcf fetch` do: the warehouse's parameters, the registry login and pulls of
   * its repository only (no push, no staging).
   */
  public grantReadReleases(grantee: iam.IGrantable): iam.Grant {
    return grantDcfPipeline('read', this.warehouse, grantee, this.dcfTarget());
  }

  private dcfTarget(): DcfPipelineTarget {
    return { kind: 'feature', id: this.featureId, pipelineArn: this.pipeline.pipelineArn, repositoryName: this.repositoryName };
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

/** The name a repository is given: an imported one's, or the `repositoryName` of a `new ecr.Repository`; undefined when it is generated. */
function literalRepositoryName(repository: ecr.IRepository): string | undefined {
  if (!Token.isUnresolved(repository.repositoryName)) return repository.repositoryName;
  const name = (repository.node.defaultChild as { repositoryName?: unknown } | undefined)?.repositoryName;
  return typeof name === 'string' && !Token.isUnresolved(name) ? name : undefined;
}
