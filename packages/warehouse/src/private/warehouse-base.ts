import { Annotations, ArnFormat, Aws, Resource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  type ArtifactKind,
  artifactPrefix,
  featureCollectionRepositoryName,
  parameterPrefix,
  repositoryName,
  sourceKey,
  stagingRepositoryName,
} from '@devcontainer-factory/core';
import type { IWarehouse } from '../warehouse-interface';
import {
  ECR_AUTH_ACTIONS,
  ECR_PULL_ACTIONS,
  ECR_PULL_THROUGH_ACTIONS,
  ECR_PUSH_ACTIONS,
  ECR_READ_MANIFEST_ACTIONS,
  ECR_RETAG_ACTIONS,
  KMS_DECRYPT_ACTIONS,
  KMS_UPLOAD_ACTIONS,
  S3_READ_SOURCE_ACTIONS,
  S3_SOURCE_BUCKET_ACTIONS,
  S3_WRITE_SOURCE_ACTIONS,
  SSM_READ_ACTIONS,
} from './actions';
import { grantDcfReadReleases, grantDcfWatch } from '../dcf-grants';
import { grantPushConfigurations, pipelineArns } from './push-grant';
import { allowSourceWriter, writerArnOf } from './source-writers';

/** The key prefix of a pipeline's objects in its artifact bucket (core's rule, re-exported for the constructs). */
export { artifactPrefix };

/** The grant methods, shared by the warehouse and a warehouse found by namespace. */
export abstract class WarehouseBase extends Resource implements IWarehouse {
  public abstract readonly namespace: string;
  public abstract readonly sourceBucket: s3.IBucket;
  public abstract readonly artifactBucket: s3.IBucket;
  public abstract readonly s3Key: kms.IKey;
  public abstract readonly ecrKey?: kms.IKey;

  public get registryHost(): string {
    return `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}`;
  }

  public repositoryName(kind: ArtifactKind, id: string): string {
    return repositoryName(this.namespace, kind, id);
  }

  public stagingRepositoryName(imageId: string): string {
    return stagingRepositoryName(this.namespace, imageId);
  }

  public get featureCollectionRepositoryName(): string {
    return featureCollectionRepositoryName(this.namespace);
  }

  public sourceKey(kind: ArtifactKind, id: string): string {
    return sourceKey(this.namespace, kind, id);
  }

  public repositoryArn(name: string): string {
    return Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  }

  public grantReadSource(grantee: iam.IGrantable, kind: ArtifactKind, id: string): iam.Grant {
    const key = this.sourceKey(kind, id);
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...S3_READ_SOURCE_ACTIONS],
      resourceArns: [this.sourceBucket.arnForObjects(key)],
    });
    iam.Grant.addToPrincipal({ grantee, actions: [...S3_SOURCE_BUCKET_ACTIONS], resourceArns: [this.sourceBucket.bucketArn] });
    this.s3Key.grant(grantee, ...KMS_DECRYPT_ACTIONS);
    return grant;
  }

  public grantPushConfigurations(grantee: iam.IGrantable): iam.Grant {
    this.letThroughSourcePolicy(grantee, 'grantPushConfigurations');
    return grantPushConfigurations(this, grantee);
  }

  public grantWatch(grantee: iam.IGrantable): iam.Grant {
    return grantDcfWatch(this, grantee, {
      sourceObjects: (['image', 'feature'] as const).map((kind) => this.sourceBucket.arnForObjects(this.sourceKey(kind, '*'))),
      pipelines: pipelineArns(this),
      what: `the namespace ${this.namespace}`,
    });
  }

  public grantReadReleases(grantee: iam.IGrantable): iam.Grant {
    return grantDcfReadReleases(this, grantee, {
      repositories: [this.repositoryName('image', '*'), this.repositoryName('feature', '*'), this.featureCollectionRepositoryName].map((n) =>
        this.repositoryArn(n),
      ),
      listRepositories: true,
      what: `the namespace ${this.namespace}`,
    });
  }

  public grantWriteSource(grantee: iam.IGrantable, kind: ArtifactKind, id = '*'): iam.Grant {
    this.letThroughSourcePolicy(grantee, 'grantWriteSource');
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...S3_WRITE_SOURCE_ACTIONS],
      resourceArns: [this.sourceBucket.arnForObjects(this.sourceKey(kind, id))],
    });
    // What an SSE-KMS upload needs of the key (a data key; Decrypt for a multipart upload), and only through S3.
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...KMS_UPLOAD_ACTIONS],
      resourceArns: [this.s3Key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.${stack.urlSuffix}` } },
    });
    return grant;
  }

  public grantPull(grantee: iam.IGrantable, ...repositoryNames: string[]): iam.Grant {
    return this.grantEcr(grantee, ECR_PULL_ACTIONS, repositoryNames);
  }

  public grantPush(grantee: iam.IGrantable, ...repositoryNames: string[]): iam.Grant {
    return this.grantEcr(grantee, ECR_PUSH_ACTIONS, repositoryNames);
  }

  public grantPullThroughCache(grantee: iam.IGrantable, prefix: string): iam.Grant {
    const pattern = `${prefix}/*`;
    return this.grantEcr(grantee, [...ECR_PULL_ACTIONS, ...ECR_PULL_THROUGH_ACTIONS], [pattern]);
  }

  public grantRetag(grantee: iam.IGrantable, ...repositoryNames: string[]): iam.Grant {
    return this.grantRepositories(grantee, ECR_RETAG_ACTIONS, ...repositoryNames);
  }

  public grantReadManifests(grantee: iam.IGrantable, ...repositoryNames: string[]): iam.Grant {
    return this.grantRepositories(grantee, ECR_READ_MANIFEST_ACTIONS, ...repositoryNames);
  }

  public grantRepositories(grantee: iam.IGrantable, actions: readonly string[], ...repositoryNames: string[]): iam.Grant {
    if (repositoryNames.length === 0) throw new Error('name at least one repository to grant access to');
    return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: repositoryNames.map((n) => this.repositoryArn(n)) });
  }

  public grantReadArtifacts(grantee: iam.IGrantable, pipelineName: string): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...S3_READ_SOURCE_ACTIONS],
      resourceArns: [this.artifactBucket.arnForObjects(`${artifactPrefix(pipelineName)}/*`)],
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetBucketLocation'], resourceArns: [this.artifactBucket.bucketArn] });
    this.s3Key.grant(grantee, ...KMS_DECRYPT_ACTIONS);
    return grant;
  }

  public grantReadParameters(grantee: iam.IGrantable): iam.Grant {
    const prefix = parameterPrefix(this.namespace);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...SSM_READ_ACTIONS],
      resourceArns: [
        Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: prefix.slice(1), arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix.slice(1)}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
      ],
    });
  }

  /**
   * Lets the grantee's role or user through the statement of the source bucket's policy that
   * denies changes of configurations to everyone else (see `keepSourceToWriters`); warns where
   * this app cannot change that policy. Refuses a grantee that is no role or user.
   */
  protected letThroughSourcePolicy(grantee: iam.IGrantable, method: string): void {
    const arn = writerArnOf(this, grantee, method);
    if (allowSourceWriter(this.sourceBucket, arn)) return;
    Annotations.of(this).addWarningV2(
      'devcontainer-factory:source-bucket-writers',
      `${method}: the source bucket ${this.sourceBucket.node.path} is not a bucket of this app, so its policy cannot be told here to let ${arn} write: ` +
        'grant it on the Warehouse that owns the bucket (in the factory app: -c pushers=…); a bucket of your own whose policy keeps uploads to some principals must name it itself',
    );
  }

  /** The actions on the repositories, and `docker login` (registry-wide). */
  private grantEcr(grantee: iam.IGrantable, actions: readonly string[], repositoryNames: string[]): iam.Grant {
    if (repositoryNames.length === 0) throw new Error('name at least one repository to grant access to');
    iam.Grant.addToPrincipal({ grantee, actions: [...ECR_AUTH_ACTIONS], resourceArns: ['*'] });
    return this.grantRepositories(grantee, actions, ...repositoryNames);
  }
}
