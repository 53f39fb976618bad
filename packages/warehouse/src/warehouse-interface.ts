import type { IResource } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { ArtifactKind } from '@devcontainer-factory/core';

/**
 * The warehouse as pipelines see it: the buckets, keys and registry of one
 * namespace, and the grants a stage asks for instead of writing policy JSON.
 */
export interface IWarehouse extends IResource {
  /** Prefix of every key, repository, stack and parameter, e.g. `devcontainers`. */
  readonly namespace: string;
  /** Where configurations are uploaded (`<ns>/images/<id>.zip`); versioned, sends events to EventBridge. */
  readonly sourceBucket: s3.IBucket;
  /** CodePipeline's artifact store; objects expire after 7 days. */
  readonly artifactBucket: s3.IBucket;
  /** Encrypts both buckets. */
  readonly s3Key: kms.IKey;
  /** Encrypts the ECR repositories; absent for a warehouse of your own resources that names none (pipelines need none). */
  readonly ecrKey?: kms.IKey;
  /** The ECR registry host, `<account>.dkr.ecr.<region>.amazonaws.com`. */
  readonly registryHost: string;
  /** The feature collection's repository, `<ns>/features`. */
  readonly featureCollectionRepositoryName: string;
  /**
   * Where the namespace's failures are sent: failed pipeline actions (with the stage,
   * the action and the summary it reported), retention errors, a release the
   * vulnerability gate refused. Absent for a warehouse of your own resources that names
   * none (then nothing is sent).
   */
  readonly failureTopic?: sns.ITopic;

  /** `<ns>/images/<id>` or `<ns>/features/<id>`: what users pull; only Release writes an image's. */
  repositoryName(kind: ArtifactKind, id: string): string;
  /** `<ns>/builds/<id>`: the staging repository where an image is built and tested before Release promotes it. */
  stagingRepositoryName(imageId: string): string;
  /** ARN of a repository of this account and region, by name (it may not exist until its first push). */
  repositoryArn(repositoryName: string): string;
  /** `<ns>/images/<id>.zip` or `<ns>/features/<id>.zip`. */
  sourceKey(kind: ArtifactKind, id: string): string;

  /** Read one configuration's object (every version) and decrypt it. */
  grantReadSource(grantee: iam.IGrantable, kind: ArtifactKind, id: string): iam.Grant;
  /**
   * Let a role or user ship configurations of the namespace: exactly what `dcf push`,
   * `dcf push --wait`, `dcf status` and `dcf list` call. `s3:PutObject` and
   * `s3:AbortMultipartUpload` on `<ns>/images/*.zip` and `<ns>/features/*.zip` (and
   * `s3:GetObject` there, for `dcf status`), `s3:ListBucket` on the source bucket,
   * `kms:GenerateDataKey` and `kms:Decrypt` on the S3 key through S3 only,
   * `ssm:GetParameters` on `/<ns>/factory/*`, `codepipeline:ListPipelines` and the reads of
   * the namespace's pipelines (state, executions, action executions),
   * `ecr:DescribeRepositories` and `ecr:DescribeImages` of `<ns>/images/*` and
   * `<ns>/features/*`. Nothing else: no delete, no pipeline start, no pull.
   *
   * The warehouse's source bucket denies every change of a configuration to any principal
   * not granted this (or {@link grantWriteSource}); the grant also lets the grantee's ARN
   * (`aws:PrincipalArn`: the role's, for every session of it) through that statement. The
   * grantee must be an IAM role or user of the warehouse's account: anything else (an
   * account, service or organization principal) throws. A warehouse that cannot change the
   * bucket's policy (`fromNamespace`, an imported bucket) grants the identity part and warns.
   */
  grantPushConfigurations(grantee: iam.IGrantable): iam.Grant;
  /**
   * Let a role or user follow the namespace's pipelines as `dcf status` and
   * `dcf push --wait` do: read the parameters, list the pipelines, read the state and
   * executions of the namespace's, and whether a configuration was uploaded
   * (`s3:GetObject` on `<ns>/images/*.zip` and `<ns>/features/*.zip`, `s3:ListBucket`).
   * No upload, no start, no pull.
   */
  grantWatch(grantee: iam.IGrantable): iam.Grant;
  /**
   * Let a role or user read what the namespace released, as `dcf list`, `dcf tags`,
   * `dcf sbom` and `dcf fetch` do: read the parameters, log in to the registry, list its
   * repositories, and pull `<ns>/images/*`, `<ns>/features/*` and `<ns>/features`
   * (manifests, layers, SBOM and configuration referrers). No push, no staging.
   */
  grantReadReleases(grantee: iam.IGrantable): iam.Grant;
  /**
   * Upload configurations of a kind (one id, or all with `*`): `s3:PutObject` on the key and
   * `kms:GenerateDataKey`/`kms:Decrypt` on the S3 key through S3 only, for a role that
   * writes configurations without `dcf`. Like
   * {@link grantPushConfigurations}, it lets the grantee (an IAM role or user) through the
   * source bucket's policy; unlike it, it reads nothing.
   */
  grantWriteSource(grantee: iam.IGrantable, kind: ArtifactKind, id?: string): iam.Grant;
  /** Pull from repositories (and log in to the registry). */
  grantPull(grantee: iam.IGrantable, ...repositoryNames: string[]): iam.Grant;
  /** Push images to repositories, creating them on first push from the warehouse's creation template (for the pipelines' roles; a person shipping configurations needs {@link grantPushConfigurations}). */
  grantPush(grantee: iam.IGrantable, ...repositoryNames: string[]): iam.Grant;
  /**
   * Pull through the pull-through cache rule of `prefix`: read its repositories and
   * import an upstream image on first use (which creates the repository).
   */
  grantPullThroughCache(grantee: iam.IGrantable, prefix: string): iam.Grant;
  /** Move tags between manifests that are already in the repositories (read manifests and tags, put manifests); no layer upload. */
  grantRetag(grantee: iam.IGrantable, ...repositoryNames: string[]): iam.Grant;
  /** Read manifests and tags through the ECR API (`BatchGetImage`, `ListImages`): no layers, no registry login. */
  grantReadManifests(grantee: iam.IGrantable, ...repositoryNames: string[]): iam.Grant;
  /** Exactly these ECR actions on these repositories, for a role that needs a set no other grant gives. */
  grantRepositories(grantee: iam.IGrantable, actions: readonly string[], ...repositoryNames: string[]): iam.Grant;
  /**
   * Read the artifacts of one pipeline (objects under the key prefix CodePipeline gives
   * them, see {@link artifactPrefix}) and decrypt them with the S3 key: no write, no
   * encrypt, no other pipeline's prefix.
   */
  grantReadArtifacts(grantee: iam.IGrantable, pipelineName: string): iam.Grant;
  /** Read the warehouse's SSM parameters (`/<ns>/factory/*`). */
  grantReadParameters(grantee: iam.IGrantable): iam.Grant;
}
