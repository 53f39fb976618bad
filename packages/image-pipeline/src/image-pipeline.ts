import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import {
  DEFAULT_STAGING_MAX_AGE_DAYS,
  InvalidNameError,
  atConstructPath,
  RELEASE_LOCK_TABLE_ENVIRONMENT,
  pipelineName,
  type ImageSettings,
  type Severity,
  type VulnerabilityAllowance,
  propsError,
} from '@devcontainer-factory/core';
import { addUploadPipeline, pipelineLogGroup, type PipelineResourceProps } from '@devcontainer-factory/pipeline-parts';
import {
  acknowledgeNag,
  acknowledgeResourceWildcard,
  grantDcfPipeline,
  pipelineWarehouse,
  type DcfPipelineTarget,
  type IWarehouse,
} from '@devcontainer-factory/warehouse';
import { type PlatformName } from './image-pipeline-options';
import { ImagePipelinePropsError } from './image-pipeline-props-error';
import { ImageRetention } from './image-retention';
import { acknowledgeInvoke } from './private/acknowledge';
import { approvalStage, grantApprove, type ApprovalProps } from './private/approval-stage';
import { buildStage } from './private/build-stage';
import { buildkitImage } from './private/buildkit-image';
import { manifestStage } from './private/manifest-stage';
import { prepareStage } from './private/prepare-stage';
import { releaseStage } from './private/release-stage';
import type { StageContext } from './private/stage-context';
import { resolveImagePipelineProps } from './private/resolve-props';
import { testStage } from './private/test-stage';
import { baseImageReleasedRule, featurePublishedRule, refreshSchedule } from './private/triggers';

export interface ImagePipelineProps extends PipelineResourceProps, ApprovalProps, ImageSettings {
  /** The image id: its source is `<ns>/images/<id>.zip`, its repository `<ns>/images/<id>` (or `repository`). */
  readonly imageId: string;
  /**
   * The warehouse of the namespace: source and artifact buckets, keys, registry
   * (`Warehouse.fromNamespace`, a `Warehouse` of the same app, or
   * `Warehouse.fromWarehouseAttributes`). Give either this or your own resources
   * (`sourceBucket`, `repository`, …), not both.
   * @default - none: `sourceBucket` and `repository` are required instead
   */
  readonly warehouse?: IWarehouse;
  /**
   * Prefix of the source key (`<ns>/images/<id>.zip`), the default pipeline name
   * (`<ns>-image-<id>`) and the repositories of `dependsOn` and `usesFeatures`
   * (`<ns>/images/<base>`, `<ns>/features/<id>`). With a warehouse, it must be the
   * warehouse's (or left out).
   * @default - the warehouse's namespace, else 'devcontainers'
   */
  readonly namespace?: string;
  /**
   * The release repository users pull from (in this stack's account and region): only
   * Release can write it. Required with `sourceBucket`.
   * @default - none: with a warehouse, `<ns>/images/<id>` created on first push
   */
  readonly repository?: ecr.IRepository;
  /**
   * The staging repository where Build pushes, Manifest assembles and Test pulls, in
   * the release repository's account and region.
   * @default - with a warehouse, `<ns>/builds/<id>` created on first push; else a new
   * repository (KMS-encrypted, scan on push, every image expires `stagingMaxAgeDays` of
   * `retention` after push, removed by `removalPolicy`)
   */
  readonly stagingRepository?: ecr.IRepository;
  /**
   * The exact `@devcontainers/cli` version Build and Test install.
   * @default '0.89.0'
   */
  readonly devcontainerCliVersion?: string;
  /**
   * The npm integrity of that version's tarball (`npm view @devcontainers/cli@<version> dist.integrity`):
   * Build and Test refuse to install a tarball with another SHA-512. Required with another `devcontainerCliVersion`.
   * @default - the integrity of 0.89.0 that the factory pins
   */
  readonly devcontainerCliIntegrity?: string;
  /**
   * The repository prefix of an ECR pull-through cache rule for ECR Public in the
   * factory's registry (see `RegistrySettings.ecrPublicCachePrefix`). When set, Build
   * pulls BuildKit through it (`<registry>/<prefix>/vend/moby/buildkit:…`) and its
   * role may pull, and import on first use, repositories under the prefix.
   * @default - BuildKit is pulled straight from ECR Public
   */
  readonly ecrPublicCachePrefix?: string;
  /**
   * The BuildKit image of the `docker-container` builder that Build creates (the
   * builder that can write the registry cache). It must name its registry host:
   * Build never pulls anonymously from Docker Hub. For an image in the factory's
   * own registry, grant `buildRole` pull on its repository. It must name a tag or a
   * digest; pin it by digest (`…:v0.32.2@sha256:…`), or a synth-time warning says it is not.
   * @default - `<registry>/<ecrPublicCachePrefix>/vend/moby/buildkit:v0.32.2` with `ecrPublicCachePrefix`, else 'public.ecr.aws/vend/moby/buildkit:v0.32.2' (pinned by tag)
   */
  readonly buildkitImage?: string;
  /**
   * Repository prefixes of further pull-through cache rules of the registry (Docker
   * Hub, GHCR with credentials: see `RegistrySettings.upstreamCaches`) that Build may
   * pull base images through, e.g. `FROM <registry>/<ns>/docker-hub/library/debian:12`.
   * @default - none
   */
  readonly pullThroughCachePrefixes?: string[];
  /**
   * The repository prefix of a pull-through cache rule for Docker Hub in the factory's
   * registry (see `RegistrySettings.upstreamCaches`). When set, Build sends every
   * `docker.io` pull through it with no change to the configuration: BuildKit's registry
   * mirror for `docker.io`, and each Docker Hub base pulled from the cache into Docker for
   * the devcontainer CLI. Build may pull and import under it (as with
   * `pullThroughCachePrefixes`). Without one, Prepare warns of each Docker Hub base.
   * @default - none: Docker Hub bases are pulled anonymously
   */
  readonly dockerHubCachePrefix?: string;
  /**
   * The retention job of the image's repositories (see {@link ImageRetention}): a
   * scheduled Lambda that keeps every `X.Y.Z`, `X.Y`, `X`, `latest` and the newest
   * `keepDateTags` date tags of the release repository (and every image a kept index
   * references), and deletes released or old builds from staging. `false` for none.
   * @default - daily, keeping 10 date tags and staging builds for 14 days
   */
  readonly retention?: ImagePipelineRetention | false;
  /**
   * The vulnerability gate of Release: before it promotes a build, Release reads the
   * scan findings of each platform's image in staging (waiting for the scan on push,
   * up to `maxWait`) and refuses the build, moving nothing, when a finding is at or
   * above `blockAt` and no unexpired allowance covers it. Needs scan on push of the
   * staging repository; `false` for no gate.
   * @default - on (any CRITICAL finding blocks) when the pipeline creates its staging
   * repository (scanned on push); off with a warehouse or a given staging repository,
   * whose scanning the pipeline cannot see: turn it on with the account's scanning
   * (`RegistrySettings.scanOnPushFilters`, the warehouse's `registryScanning`)
   */
  readonly vulnerabilityGate?: VulnerabilityGateProps | false;
  /**
   * Concurrent executions reserved for the Release function, e.g. `1` for a hard cap of
   * one Release of this image at a time (a second invocation is throttled and waits in
   * Lambda's queue, up to an hour). Each reserved execution is taken from the account's
   * unreserved concurrency, which Lambda keeps at a minimum (a deploy fails below it), so
   * a catalogue of many images can exhaust an account with a low concurrency quota.
   * @default - none: Release runs in the account's unreserved concurrency; the release
   * lock it shares with Retention, and one Release action per pipeline execution in
   * `SUPERSEDED` mode, already keep one writer of the image's repositories at a time
   */
  readonly releaseReservedConcurrency?: number;
}

/** The policy of the vulnerability gate (see {@link ImagePipelineProps.vulnerabilityGate}). */
export interface VulnerabilityGateProps {
  /** @default 'CRITICAL' */
  readonly blockAt?: Severity | 'none';
  /**
   * Findings allowed until their expiry date (UTC, `YYYY-MM-DD`, the last day they hold), each with the reason.
   * @default - none
   */
  readonly allow?: VulnerabilityAllowance[];
  /**
   * How long Release waits for a scan in progress; at most 14 minutes (the Release Lambda runs 15).
   * @default Duration.minutes(10)
   */
  readonly maxWait?: Duration;
  /**
   * Whether staging is scanned by enhanced scanning (Amazon Inspector): Release then
   * also needs `inspector2:ListFindings`, which ECR calls on its behalf.
   * @default false
   */
  readonly enhancedScanning?: boolean;
}

/** Settings of an image pipeline's retention job. */
export interface ImagePipelineRetention {
  /** @default 10 */
  readonly keepDateTags?: number;
  /** @default 14 */
  readonly stagingMaxAgeDays?: number;
  /** @default - once a day */
  readonly schedule?: events.Schedule;
  /** Only log what would be deleted. @default false */
  readonly dryRun?: boolean;
}

/**
 * The pipeline of one devcontainer image (CodePipeline V2), started by an upload of
 * `<ns>/images/<id>.zip` (and by a push of a base image's `latest` or of a tag of a
 * feature it uses, and daily or weekly by a schedule):
 *
 * Source → Prepare (Lambda) → Build (CodeBuild, one per platform, in parallel, on
 * native hardware) → Manifest (Lambda: OCI image index) → Test (CodeBuild, one per
 * platform, in parallel) → Release (Lambda: promotion and tags). With `approval`, an
 * Approval stage (a person, see {@link grantApprove}) comes between Test and Release.
 *
 * Build, Manifest and Test work in the staging repository `<ns>/builds/<id>`;
 * Release promotes the tested build into `<ns>/images/<id>`, which no other role of
 * the pipeline can write.
 *
 * Build, Manifest and Test are skipped when Prepare finds the build id released.
 */
export class ImagePipeline extends Construct {
  public readonly pipeline: codepipeline.Pipeline;
  /** The image id: its source is `<ns>/images/<id>.zip`. */
  public readonly imageId: string;
  /** `<ns>/images/<id>`: the release repository users pull from; only Release writes it. */
  public readonly repositoryName: string;
  /** `<ns>/builds/<id>`: the staging repository Build pushes to, Manifest assembles in and Test pulls from. */
  public readonly stagingRepositoryName: string;
  /** The platforms built and tested. */
  public readonly platforms: readonly PlatformName[];
  /** The rule that starts the pipeline on an upload of its source key. */
  public readonly sourceRule: events.Rule;
  /** The rule that starts the pipeline on a push of a base image's `latest`; absent without `dependsOn`. */
  public readonly baseImageRule?: events.Rule;
  /** The rule that starts the pipeline on a push of a tag of a feature the image uses; absent without `usesFeatures`. */
  public readonly featureRule?: events.Rule;
  /** The schedule that starts the pipeline daily or weekly; absent with `refresh: 'off'`. */
  public readonly refreshSchedule?: scheduler.Schedule;
  /** The rule that sends each failed action (a refused release among them) to the failure topic; absent without one. */
  public readonly failureRule?: events.Rule;
  /** Where the pipeline's Lambdas and CodeBuild projects log. */
  public readonly logGroup: logs.ILogGroup;
  /** The warehouse the pipeline works with: the one it was given, or a view over its own resources. */
  public readonly warehouse: IWarehouse;
  /** The staging repository the pipeline created; absent with a warehouse or a `stagingRepository`. */
  public readonly createdStagingRepository?: ecr.Repository;
  /** The role of the Build projects: pushes to the staging repository, pulls the base images. */
  public readonly buildRole: iam.IRole;
  /** The role of the Test projects: pulls the staging repository, cannot push. */
  public readonly testRole: iam.IRole;
  /** The Lambda functions of the Prepare, Manifest and Release actions. */
  public readonly prepareFunction: lambda.IFunction;
  public readonly manifestFunction: lambda.IFunction;
  public readonly releaseFunction: lambda.IFunction;
  /** The retention job of the release and staging repositories; absent with `retention: false`. */
  public readonly retention?: ImageRetention;
  /** The pipeline's name when it has an approval stage (see {@link grantApprove}). */
  private readonly approvalPipelineName?: string;

  constructor(scope: Construct, id: string, props: ImagePipelineProps) {
    super(scope, id);
    if (!props)
      throw propsError(
        this.node.path,
        ImagePipelinePropsError,
        `props are missing: pass at least imageId, and a warehouse or your own sourceBucket and repository`,
      );
    try {
      const settings = resolveImagePipelineProps(props);
      const { imageId, removalPolicy, platforms, dependsOn, usesFeatures, refresh } = settings;
      this.imageId = imageId;
      // Without a warehouse there is no creation template to make `<ns>/builds/<id>` on first push.
      this.createdStagingRepository = settings.createsStagingRepository ? this.newStagingRepository(props, removalPolicy) : undefined;
      const stagingRepository = props.stagingRepository ?? this.createdStagingRepository;
      const warehouse = pipelineWarehouse(this, {
        warehouse: props.warehouse,
        namespace: props.namespace,
        sourceBucket: props.sourceBucket,
        encryptionKey: props.encryptionKey,
        artifactBucket: props.artifactBucket,
        failureTopic: props.failureTopic,
        repositories: [props.repository, stagingRepository].filter((r): r is ecr.IRepository => r !== undefined),
        otherResources: { repository: props.repository, stagingRepository: props.stagingRepository },
        requiredResources: 'sourceBucket (with encryptionKey unless the bucket has one) and repository',
        removalPolicy,
        error: (message) => new ImagePipelinePropsError(message),
      });
      this.warehouse = warehouse;
      const cachePrefix = settings.ecrPublicCachePrefix;
      const buildkit = buildkitImage(this, props.buildkitImage, cachePrefix ? `${warehouse.registryHost}/${cachePrefix}` : undefined);

      this.repositoryName = props.repository?.repositoryName ?? warehouse.repositoryName('image', imageId);
      this.stagingRepositoryName = stagingRepository?.repositoryName ?? warehouse.stagingRepositoryName(imageId);
      this.platforms = platforms;
      this.logGroup = pipelineLogGroup(this, props, removalPolicy);
      const name = props.pipelineName ?? pipelineName(warehouse.namespace, 'image', imageId);

      const source = new codepipeline.Artifact('Source');
      const ctx: StageContext = {
        scope: this,
        warehouse,
        repository: this.repositoryName,
        stagingRepository: this.stagingRepositoryName,
        pipelineName: name,
        baseRepositories: dependsOn.map((base) => warehouse.repositoryName('image', base)),
        featureRepositories: usesFeatures.map((feature) => warehouse.repositoryName('feature', feature)),
        platforms,
        computeSize: settings.computeSize,
        releaseTags: settings.releaseTags,
        devcontainerCliVersion: settings.devcontainerCliVersion,
        ...(settings.devcontainerCliIntegrity !== undefined && { devcontainerCliIntegrity: settings.devcontainerCliIntegrity }),
        buildkitImage: buildkit,
        ...(settings.dockerHubCachePrefix !== undefined && { dockerHubCachePrefix: settings.dockerHubCachePrefix }),
        logGroup: this.logGroup,
        source,
        pullThroughPrefixes: [...(cachePrefix ? [cachePrefix] : []), ...settings.pullThroughPrefixes],
        ...(settings.vulnerabilityGate && { vulnerabilityGate: settings.vulnerabilityGate }),
        ...(settings.releaseReservedConcurrency !== undefined && { releaseReservedConcurrency: settings.releaseReservedConcurrency }),
      };

      const prepare = prepareStage(ctx);
      const build = buildStage(ctx, prepare.outputs);
      for (const prefix of ctx.pullThroughPrefixes) {
        warehouse.grantPullThroughCache(build.role, prefix);
        acknowledgeResourceWildcard(
          build.role,
          warehouse.repositoryArn(`${prefix}/*`),
          `ECR creates one repository per upstream image under the pull-through cache prefix ${prefix}/ on first pull; Build may only pull and import there`,
        );
      }
      const manifest = manifestStage(ctx, prepare.outputs);
      const test = testStage(ctx, prepare.outputs);
      const release = releaseStage(ctx, prepare.outputs);
      const approval = approvalStage(ctx, props, prepare.outputs);
      if (approval) this.approvalPipelineName = name;
      this.buildRole = build.role;
      this.testRole = test.role;
      this.prepareFunction = prepare.job.function;
      this.manifestFunction = manifest.job.function;
      this.releaseFunction = release.job.function;
      const { pipeline, sourceRule, eventRole, failureRule } = addUploadPipeline(this, {
        warehouse,
        kind: 'image',
        artifactId: imageId,
        pipelineName: name,
        source,
        // `#{Source.VersionId}` and `#{Source.ETag}` for later actions.
        sourceVariablesNamespace: 'Source',
        stages: [prepare.stage, build.stage, manifest.stage, test.stage, ...(approval ? [approval] : []), release.stage],
        // A newer upload overtakes an older one at the next stage boundary: no build of stale content.
        executionMode: codepipeline.ExecutionMode.SUPERSEDED,
      });
      this.pipeline = pipeline;
      this.sourceRule = sourceRule;
      this.failureRule = failureRule;
      acknowledgeNag(pipeline.role, 'IAM5', 'LambdaInvokeAction needs lambda:ListFunctions, which has no resource-level permissions', 'Resource::*');
      for (const job of [prepare.job, manifest.job, release.job]) acknowledgeInvoke(this.pipeline.role, job.function);

      if (ctx.baseRepositories.length) this.baseImageRule = baseImageReleasedRule(this, this.pipeline, ctx.baseRepositories, eventRole);
      if (usesFeatures.length) this.featureRule = featurePublishedRule(this, this.pipeline, ctx.featureRepositories, eventRole);
      if (refresh !== 'off') this.refreshSchedule = refreshSchedule(this, this.pipeline, ctx.pipelineName, refresh);
      if (props.retention !== false) {
        this.retention = new ImageRetention(this, 'Retention', {
          ...props.retention,
          registryHost: warehouse.registryHost,
          releaseRepository: this.repositoryName,
          stagingRepository: this.stagingRepositoryName,
          repositoryArn: (repositoryName) => warehouse.repositoryArn(repositoryName),
          logGroup: this.logGroup,
          removalPolicy,
          failureTopic: warehouse.failureTopic,
        });
        // Release and Retention run in functions of their own: they share the lock of the image's repositories.
        this.retention.grantLock(release.job.role);
        release.job.function.addEnvironment(RELEASE_LOCK_TABLE_ENVIRONMENT, this.retention.lockTable.tableName);
      }
    } catch (error) {
      throw atConstructPath(this.node.path, error, ImagePipelinePropsError, [InvalidNameError]);
    }
  }

  /**
   * Let a role or user approve or reject this image's releases (with `approval`): approve
   * or reject the pipeline's approval action (`codepipeline:PutApprovalResult` on
   * `<pipeline>/Approval/Approve`) and read the pipeline's state, which holds the token
   * that takes. Throws for a pipeline without `approval`.
   */
  public grantApprove(grantee: iam.IGrantable): iam.Grant {
    if (this.approvalPipelineName === undefined)
      throw propsError(this.node.path, ImagePipelinePropsError, `grantApprove: the pipeline has no approval to approve: pass approval: true`);
    return grantApprove(this, grantee, this.approvalPipelineName);
  }

  /**
   * Let a role or user ship this image's configuration and follow it, as `dcf push --wait`
   * does: upload `<ns>/images/<id>.zip` (encrypted with the source bucket's key, and let
   * through the warehouse's source bucket policy), plus {@link grantWatch}. Nothing of
   * another image, no delete.
   */
  public grantPushConfiguration(grantee: iam.IGrantable): iam.Grant {
    return grantDcfPipeline('push', this.warehouse, grantee, this.dcfTarget());
  }

  /**
   * Let a role or user follow this pipeline as `dcf status` and `dcf push --wait` do: the
   * warehouse's parameters, the list of pipelines, this pipeline's state, executions and
   * action executions, and whether this image's configuration was uploaded. No write.
   */
  public grantWatch(grantee: iam.IGrantable): iam.Grant {
    return grantDcfPipeline('watch', this.warehouse, grantee, this.dcfTarget());
  }

  /**
   * Let a role or user read this image's releases as `dcf tags`, `dcf sbom` and
   * `dcf fetch` do: the warehouse's parameters, the registry login and pulls of
   * its release repository only (no push, no staging).
   */
  public grantReadReleases(grantee: iam.IGrantable): iam.Grant {
    return grantDcfPipeline('read', this.warehouse, grantee, this.dcfTarget());
  }

  private dcfTarget(): DcfPipelineTarget {
    return { kind: 'image', id: this.imageId, pipelineArn: this.pipeline.pipelineArn, repositoryName: this.repositoryName };
  }

  /** The staging repository of a pipeline without a warehouse: builds expire by age, tagged or not. */
  private newStagingRepository(props: ImagePipelineProps, removalPolicy: RemovalPolicy): ecr.Repository {
    const days = props.retention ? (props.retention.stagingMaxAgeDays ?? DEFAULT_STAGING_MAX_AGE_DAYS) : DEFAULT_STAGING_MAX_AGE_DAYS;
    return new ecr.Repository(this, 'StagingRepository', {
      encryption: ecr.RepositoryEncryption.KMS,
      imageScanOnPush: true,
      // Release reads builds from here; it never moves a tag in staging, Build overwrites buildcache-<arch>.
      imageTagMutability: ecr.TagMutability.MUTABLE,
      lifecycleRules: [
        {
          description: `Expire every staged build ${days} days after push; releases live in the release repository`,
          tagStatus: ecr.TagStatus.ANY,
          maxImageAge: Duration.days(days),
        },
      ],
      removalPolicy,
      emptyOnDelete: removalPolicy === RemovalPolicy.DESTROY,
    });
  }
}
