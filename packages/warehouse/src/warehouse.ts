import { Annotations, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import {
  type ArtifactKind,
  InvalidNameError,
  atConstructPath,
  featureCollectionRepositoryName,
  parameterNames,
  repositoryName,
  stagingRepositoryName,
  validateNamespace,
  propsError,
} from '@devcontainer-factory/core';
import { FailureTopic } from './failure-topic';
import { acknowledgeResourceWildcard } from './nag';
import { RegistrySettings, type UpstreamCacheRule } from './registry-settings';
import { releaseWriterRolePath } from './release-writers';
import { KMS_ECR_GRANT_ACTIONS, KMS_ECR_KEY_ACTIONS } from './private/actions';
import { allowFailurePublishers, subscribeToFailures } from './private/failure-notifications';
import { resolveWarehouseProps, type ResolvedWarehouseProps } from './private/resolve-props';
import { IMMUTABLE_RELEASE_TAG_FILTERS, RELEASE_TAG_MUTABILITY, releaseRepositoryPolicy } from './private/release-repository';
import { secureBucketProps, stagingLifecyclePolicy, untaggedOnlyLifecyclePolicy } from './private/secure-defaults';
import { keepSourceToWriters } from './private/source-writers';
import { WarehouseBase } from './private/warehouse-base';
import { WarehousePropsError } from './warehouse-props-error';
import type { IWarehouse } from './warehouse-interface';

export interface WarehouseProps {
  /**
   * Prefix of every S3 key, ECR repository, stack, alias and SSM parameter. Two
   * namespaces can live in one account and region.
   * @default 'devcontainers'
   */
  readonly namespace?: string;
  /**
   * How long an overwritten or deleted configuration stays in the source bucket as a
   * noncurrent version. Whole days.
   * @default Duration.days(30)
   */
  readonly sourceVersionRetention?: Duration;
  /**
   * How long CodePipeline artifacts live. Whole days.
   * @default Duration.days(7)
   */
  readonly artifactRetention?: Duration;
  /**
   * How long S3 server access logs are kept. Whole days.
   * @default Duration.days(365)
   */
  readonly accessLogRetention?: Duration;
  /**
   * How long after push an untagged image is expired. Tagged images are never
   * expired. Whole days.
   * @default Duration.days(14)
   */
  readonly untaggedImageRetention?: Duration;
  /**
   * How long after push a build in a staging repository (`<ns>/builds/<id>`, where
   * Build, Manifest and Test work) is expired, tagged or not. Release promotes what it
   * releases into `<ns>/images/<id>`, which this never touches. Whole days.
   * @default Duration.days(14)
   */
  readonly stagingRetention?: Duration;
  /**
   * Turn on ECR basic scan-on-push for `<ns>/*`. This creates the account's one
   * registry scanning configuration (see {@link RegistrySettings}), which replaces
   * any the account and region already had (ENHANCED scanning, other filters), and
   * deleting the stack resets it: switch it on only where this warehouse owns the
   * account's ECR settings.
   * @default false - the account's scanning configuration is left as it is
   */
  readonly registryScanning?: boolean;
  /**
   * Serve ECR Public from the namespace's registry through a pull-through cache rule
   * with this repository prefix (under the namespace, e.g. `<ns>/ecr-public`, so that
   * the repositories it creates get the namespace's encryption and lifecycle). Build
   * pulls BuildKit through it when the image pipeline is given the same prefix. A
   * prefix exists once per account and region (see {@link RegistrySettings}).
   * @default - no pull-through cache rule
   */
  readonly ecrPublicCachePrefix?: string;
  /**
   * Turn on ECR blob mounting for the account and region (see
   * {@link RegistrySettingsProps.blobMounting}), so that Release mounts a build's layers
   * from `<ns>/builds/<id>` into `<ns>/images/<id>` instead of copying them. Account-wide;
   * deleting the stack leaves it on.
   * @default false - the account's setting is left as it is (promotion then copies layers)
   */
  readonly blobMounting?: boolean;
  /**
   * Pull-through cache rules for Docker Hub, GHCR or Quay, each with a Secrets Manager
   * secret (see {@link RegistrySettingsProps.upstreamCaches}); give the prefixes under
   * the namespace (`<ns>/docker-hub`) so that the repositories they create get the
   * namespace's encryption and lifecycle. Account-wide.
   * @default - none
   */
  readonly upstreamCaches?: UpstreamCacheRule[];
  /**
   * Sign every image and feature users pull, with ECR managed signing (see
   * {@link RegistrySettingsProps.signing}): the release repositories `<ns>/images/*`
   * and the feature repositories `<ns>/features/*` and `<ns>/features`, never staging.
   * Account-wide: it replaces the account's signing configuration.
   * @default false - the account's signing configuration is left as it is
   */
  readonly signing?: boolean;
  /**
   * The SNS topic the namespace's failures go to, e.g. a team's own
   * (`sns.Topic.fromTopicArn(…)`): failed pipeline actions (with the stage, the action
   * and the summary it reported), retention errors, a release the vulnerability gate
   * refused. EventBridge rules and CloudWatch alarms of this account publish to it, and
   * so do the retention functions' roles: a topic of this app gets the statements in its
   * policy; an imported one must allow them itself (a warning says so), and its KMS key,
   * if any, must let events.amazonaws.com, cloudwatch.amazonaws.com and the account's
   * roles (through SNS) use `kms:Decrypt` and `kms:GenerateDataKey*`.
   * @default - a new {@link FailureTopic}: encrypted with a KMS key of its own
   * (`alias/<ns>/factory/notifications`, rotation on), TLS only
   */
  readonly failureTopic?: sns.ITopic;
  /**
   * Email addresses and `https://` URLs subscribed to the failure topic. Each email
   * address is sent a confirmation message first; nothing reaches it until someone
   * confirms.
   * @default - none: subscribe later to the topic whose ARN is the SSM parameter
   * `/<ns>/factory/failure-topic-arn`
   */
  readonly notify?: string[];
  /**
   * What happens to the buckets, keys and failure topic when the stack is deleted. ECR
   * repositories are created on push, outside CloudFormation, and are never
   * deleted by it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The stateful part of the factory: the source bucket that configurations are
 * uploaded to, CodePipeline's artifact bucket, an access-log bucket, KMS keys for
 * S3 and ECR, the ECR repository creation template for `<ns>/…`, the topic failures
 * are sent to, and SSM parameters under `/<ns>/factory/` that pipelines and the CLI read.
 *
 * An upload is a release, so the source bucket's policy denies every change of its objects
 * (put, delete, ACL, tags) to every principal but the roles and users granted
 * {@link grantPushConfigurations} (or `grantWriteSource`); with none granted, nobody can
 * upload. The bucket itself (its policy among it) stays the deployment role's.
 *
 * Its size does not depend on the catalogue: repositories are created on first
 * push from the creation template, so the stack holds the same ~25 resources for 5
 * images or 5,000. The construct emits no outputs and sets no context: `WarehouseStack`
 * adds the stack's outputs.
 */
export class Warehouse extends WarehouseBase {
  /**
   * The warehouse of a namespace, found through its SSM parameters at deploy time:
   * no CloudFormation exports, so the warehouse's outputs never grow with the
   * catalogue and stacks can be deployed on their own.
   */
  public static fromNamespace(scope: Construct, id: string, namespace: string): IWarehouse {
    return new ImportedWarehouse(scope, id, validateNamespace(namespace));
  }

  /**
   * A warehouse made of resources you already have: your source and artifact buckets
   * and keys. Repositories are still `<namespace>/…` in this stack's account and region.
   *
   * Pipelines start on the source bucket's EventBridge events: a bucket of this app
   * (`new s3.Bucket(…)`) gets them switched on here; for an imported bucket this cannot be
   * seen at synth, so a warning says to switch them on (`aws s3api
   * put-bucket-notification-configuration … EventBridgeConfiguration`), else no pipeline
   * ever starts.
   */
  public static fromWarehouseAttributes(scope: Construct, id: string, attrs: WarehouseAttributes): IWarehouse {
    return new WarehouseOfResources(scope, id, attrs);
  }

  public readonly namespace: string;
  public readonly sourceBucket: s3.IBucket;
  public readonly artifactBucket: s3.IBucket;
  public readonly accessLogBucket: s3.IBucket;
  public readonly s3Key: kms.IKey;
  public readonly ecrKey: kms.IKey;
  /** The role ECR assumes to create repositories with the ECR key. */
  public readonly repositoryCreationRole: iam.IRole;
  /** Where the namespace's failures are sent: the given `failureTopic`, or the warehouse's own. */
  public readonly failureTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: WarehouseProps = {}) {
    super(scope, id);
    let settings: ResolvedWarehouseProps;
    try {
      settings = resolveWarehouseProps(props);
    } catch (error) {
      throw atConstructPath(this.node.path, error, WarehousePropsError, [InvalidNameError]);
    }
    this.namespace = settings.namespace;
    const ns = this.namespace;
    const { removalPolicy, notify } = settings;
    const {
      sourceVersions: sourceVersionDays,
      artifacts: artifactDays,
      accessLogs: logDays,
      untaggedImages: untaggedDays,
      staging: stagingDays,
    } = settings.days;

    this.s3Key = new kms.Key(this, 'S3Key', {
      description: `devcontainer-factory ${ns}: encrypts the source and artifact buckets`,
      alias: `alias/${ns}/factory/s3`,
      enableKeyRotation: true,
      removalPolicy,
    });
    const ecrKey = new kms.Key(this, 'EcrKey', {
      description: `devcontainer-factory ${ns}: encrypts the ECR repositories under ${ns}/`,
      alias: `alias/${ns}/factory/ecr`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.ecrKey = ecrKey;

    // S3 delivers server access logs only into a bucket with SSE-S3 default encryption.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      ...secureBucketProps({ id: 'expire-access-logs', expiration: Duration.days(logDays) }),
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: false,
      removalPolicy,
    });

    // Both data buckets: SSE-KMS with the S3 key, access logs to the log bucket.
    const kmsBucket = (id: string, logPrefix: string, props: s3.BucketProps) => {
      const bucket = new s3.Bucket(this, id, {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.s3Key,
        bucketKeyEnabled: true,
        removalPolicy,
        ...props,
      });
      deliverAccessLogs(bucket, this.accessLogBucket, logPrefix);
      return bucket;
    };

    this.sourceBucket = kmsBucket('SourceBucket', 'source/', {
      ...secureBucketProps({ id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(sourceVersionDays) }),
      versioned: true,
    });

    // Only the principals granted push (grantPushConfigurations, grantWriteSource) may change a configuration: an upload is a release.
    keepSourceToWriters(this.sourceBucket, ['*']);

    // EventBridge notifications set on the bucket itself: the `eventBridgeEnabled`
    // prop would add a custom-resource Lambda to do what CloudFormation does natively.
    (this.sourceBucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };

    this.artifactBucket = kmsBucket('ArtifactBucket', 'artifacts/', {
      ...secureBucketProps({ id: 'expire-artifacts', expiration: Duration.days(artifactDays) }),
    });

    // Repositories are created on first push from this template, so the stack does
    // not grow with the catalogue. ECR assumes this role to create them encrypted
    // with the ECR key.
    const repositoryArnPattern = this.repositoryArn(`${ns}/*`);
    const creationRole = new iam.Role(this, 'RepositoryCreationRole', {
      // Only ECR acting for this account may assume it (confused-deputy guard).
      assumedBy: new iam.ServicePrincipal('ecr.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: `ECR assumes this role to create ${ns}/* repositories from the creation template`,
    });
    creationRole.addToPolicy(new iam.PolicyStatement({ actions: ['ecr:CreateRepository', 'ecr:TagResource'], resources: [repositoryArnPattern] }));
    ecrKey.grant(creationRole, ...KMS_ECR_KEY_ACTIONS);
    // The grant of each repository ECR creates; only for an AWS resource (ECR asks for it), never for the role's own use.
    iam.Grant.addToPrincipal({
      grantee: creationRole,
      actions: [...KMS_ECR_GRANT_ACTIONS],
      resourceArns: [ecrKey.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    });
    acknowledgeResourceWildcard(
      creationRole,
      repositoryArnPattern,
      `ECR creates a repository for any image or feature id on first push; the role is limited to the ${ns}/ prefix and only ECR can assume it`,
    );
    this.repositoryCreationRole = creationRole;

    const creationTemplate = (
      id: string,
      props: { prefix: string; description: string; appliedFor: string[]; lifecyclePolicy: string; kind: string; releaseOf?: ArtifactKind },
    ) => {
      const template = new ecr.CfnRepositoryCreationTemplate(this, id, {
        prefix: props.prefix,
        description: props.description,
        appliedFor: props.appliedFor,
        // Every repository of the namespace has the same key: blob mounting needs identical encryption.
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: ecrKey.keyArn },
        // Release moves latest, X.Y, X and the date tag. In the repositories users pull from, ECR
        // also refuses to move an existing X.Y.Z, and only the kind's writer roles may push.
        ...(props.releaseOf
          ? {
              imageTagMutability: RELEASE_TAG_MUTABILITY,
              imageTagMutabilityExclusionFilters: [...IMMUTABLE_RELEASE_TAG_FILTERS],
              repositoryPolicy: releaseRepositoryPolicy(this, releaseWriterRolePath(ns, props.releaseOf)),
            }
          : { imageTagMutability: 'MUTABLE' }),
        lifecyclePolicy: props.lifecyclePolicy,
        customRoleArn: creationRole.roleArn,
        resourceTags: [
          { key: 'devcontainer-factory:namespace', value: ns },
          { key: 'devcontainer-factory:repository', value: props.kind },
        ],
      });
      template.node.addDependency(creationRole);
      return template;
    };
    // The namespace's other repositories: the feature collection `<ns>/features` (a template's
    // prefix covers `<prefix>/…`, not the repository of that name) and the pull-through caches,
    // which ECR itself updates (their tags stay mutable, and no repository policy gets in its way).
    creationTemplate('RepositoryCreationTemplate', {
      prefix: ns,
      description: `devcontainer-factory ${ns}: the feature collection and pull-through caches, created on first push or pull`,
      // Repositories of a pull-through cache prefix under the namespace get the same settings.
      appliedFor: ['CREATE_ON_PUSH', 'PULL_THROUGH_CACHE'],
      lifecyclePolicy: untaggedOnlyLifecyclePolicy(untaggedDays),
      kind: 'release',
    });
    // The more specific prefix wins: staging repositories expire by age.
    creationTemplate('StagingRepositoryCreationTemplate', {
      prefix: stagingRepositoryName(ns, '').replace(/\/$/, ''),
      description: `devcontainer-factory ${ns}: staging repositories of image builds, created on first push`,
      appliedFor: ['CREATE_ON_PUSH'],
      lifecyclePolicy: stagingLifecyclePolicy(stagingDays),
      kind: 'staging',
    });
    // What users pull: X.Y.Z immutable in ECR, pushed only by Release (images) and Publish (features).
    creationTemplate('ImageRepositoryCreationTemplate', {
      prefix: repositoryName(ns, 'image', '').replace(/\/$/, ''),
      description: `devcontainer-factory ${ns}: release repositories of images, created on first push by Release; X.Y.Z never moves`,
      appliedFor: ['CREATE_ON_PUSH'],
      lifecyclePolicy: untaggedOnlyLifecyclePolicy(untaggedDays),
      kind: 'release',
      releaseOf: 'image',
    });
    creationTemplate('FeatureRepositoryCreationTemplate', {
      prefix: repositoryName(ns, 'feature', '').replace(/\/$/, ''),
      description: `devcontainer-factory ${ns}: feature repositories, created on first push by Publish; X.Y.Z never moves`,
      appliedFor: ['CREATE_ON_PUSH'],
      lifecyclePolicy: untaggedOnlyLifecyclePolicy(untaggedDays),
      kind: 'feature',
      releaseOf: 'feature',
    });

    if (props.registryScanning || props.ecrPublicCachePrefix !== undefined || props.blobMounting || props.upstreamCaches?.length || props.signing) {
      new RegistrySettings(this, 'RegistrySettings', {
        ...(props.signing && { signing: { repositoryFilters: signedRepositoryFilters(ns) } }),
        scanOnPushFilters: props.registryScanning ? [`${ns}/*`] : undefined,
        ecrPublicCachePrefix: props.ecrPublicCachePrefix,
        blobMounting: props.blobMounting,
        upstreamCaches: props.upstreamCaches,
      });
    }

    if (props.failureTopic) {
      this.failureTopic = props.failureTopic;
      allowFailurePublishers(this, props.failureTopic);
      subscribeToFailures(props.failureTopic, notify);
    } else {
      this.failureTopic = new FailureTopic(this, 'Failures', {
        namespace: ns,
        notify: [...notify],
        keyAlias: `alias/${ns}/factory/notifications`,
        removalPolicy,
      }).topic;
    }

    const names = parameterNames(ns);
    const parameters: Array<[string, string, string]> = [
      ['SourceBucketNameParameter', names.sourceBucketName, this.sourceBucket.bucketName],
      ['ArtifactBucketNameParameter', names.artifactBucketName, this.artifactBucket.bucketName],
      ['S3KeyArnParameter', names.s3KeyArn, this.s3Key.keyArn],
      ['EcrKeyArnParameter', names.ecrKeyArn, this.ecrKey.keyArn],
      ['RegistryParameter', names.registry, this.registryHost],
      ['RepositoryPrefixParameter', names.repositoryPrefix, `${ns}/`],
      ['FailureTopicArnParameter', names.failureTopicArn, this.failureTopic.topicArn],
    ];
    for (const [cid, parameterName, stringValue] of parameters) {
      new ssm.StringParameter(this, cid, {
        parameterName,
        stringValue,
        description: `devcontainer-factory ${ns}: read by the pipelines and the dcf CLI`,
      });
    }
  }
}

/** The repositories users pull from, which signing covers: releases and features, not staging. */
export function signedRepositoryFilters(namespace: string): string[] {
  return [`${namespace}/images/*`, `${namespace}/features/*`, featureCollectionRepositoryName(namespace)];
}

/** What {@link Warehouse.fromWarehouseAttributes} is made of. */
export interface WarehouseAttributes {
  /** Prefix of the source keys, repositories and parameters, e.g. `devcontainers`. */
  readonly namespace: string;
  /**
   * Where configurations are uploaded (`<ns>/images/<id>.zip`); versioned, with EventBridge
   * notifications. A bucket of the app is kept to its granted writers under `<ns>/` once a
   * role or user is granted push (`grantPushConfigurations`); an imported bucket's policy
   * is yours to keep (a grant on it warns).
   */
  readonly sourceBucket: s3.IBucket;
  /** CodePipeline's artifact store. */
  readonly artifactBucket: s3.IBucket;
  /**
   * The key of both buckets' objects.
   * @default - the source bucket's `encryptionKey`
   */
  readonly s3Key?: kms.IKey;
  /**
   * The key the repositories are encrypted with (given to repositories created on push by your own creation template).
   * @default - none: the pipelines need no ECR key (ECR decrypts for whoever may pull or push)
   */
  readonly ecrKey?: kms.IKey;
  /**
   * ECR repositories of your own (a release or staging repository): a grant on one of
   * them by its `repositoryName` goes to its own `repositoryArn`, whatever its name.
   * They must be in this stack's account and region (`registryHost`).
   * @default - none: every repository is `<ns>/…` of this stack's account and region
   */
  readonly repositories?: ecr.IRepository[];
  /**
   * The SNS topic failures go to (see {@link WarehouseProps.failureTopic}): pipelines
   * send their failed actions there, retention its errors. A topic of this app gets
   * statements that let EventBridge rules and CloudWatch alarms of this account publish;
   * for an imported one a warning says what its policy must allow.
   * @default - none: no failure is sent anywhere
   */
  readonly failureTopic?: sns.ITopic;
}

/** A warehouse of resources the caller has; see {@link Warehouse.fromWarehouseAttributes}. */
class WarehouseOfResources extends WarehouseBase {
  public readonly namespace: string;
  public readonly sourceBucket: s3.IBucket;
  public readonly artifactBucket: s3.IBucket;
  public readonly s3Key: kms.IKey;
  public readonly ecrKey?: kms.IKey;
  public readonly failureTopic?: sns.ITopic;
  private readonly repositories: readonly ecr.IRepository[];

  constructor(scope: Construct, id: string, attrs: WarehouseAttributes) {
    super(scope, id);
    this.namespace = validateNamespace(attrs.namespace);
    const s3Key = attrs.s3Key ?? attrs.sourceBucket.encryptionKey;
    if (!s3Key) {
      throw propsError(
        this.node.path,
        WarehousePropsError,
        `the source bucket has no encryptionKey that the pipelines could decrypt with: pass s3Key (the KMS key of the source and artifact buckets' objects)`,
      );
    }
    this.sourceBucket = attrs.sourceBucket;
    this.artifactBucket = attrs.artifactBucket;
    this.s3Key = s3Key;
    this.ecrKey = attrs.ecrKey;
    this.repositories = [...(attrs.repositories ?? [])];
    this.failureTopic = attrs.failureTopic;
    if (attrs.failureTopic) allowFailurePublishers(this, attrs.failureTopic);
    ensureEventBridge(this, attrs.sourceBucket);
  }

  public repositoryArn(name: string): string {
    return this.repositories.find((r) => r.repositoryName === name)?.repositoryArn ?? super.repositoryArn(name);
  }

  /**
   * A bucket of the app (not imported) is kept to its granted writers under `<ns>/` from
   * the first grant on: the bucket is the caller's, so other prefixes, and a bucket nobody
   * was granted on, stay as the caller made them.
   */
  protected letThroughSourcePolicy(grantee: iam.IGrantable, method: string): void {
    keepSourceToWriters(this.sourceBucket, [`${this.namespace}/*`]);
    super.letThroughSourcePolicy(grantee, method);
  }
}

/**
 * Lets S3 deliver the server access logs of `bucket` into `logBucket` under `prefix`, by
 * a statement of the log bucket's policy (never an ACL, whatever the app's feature
 * flags), limited to that source bucket and account.
 */
function deliverAccessLogs(bucket: s3.Bucket, logBucket: s3.IBucket, prefix: string): void {
  (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = { destinationBucketName: logBucket.bucketName, logFilePrefix: prefix };
  logBucket.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [logBucket.arnForObjects(`${prefix}*`)],
      conditions: { ArnLike: { 'aws:SourceArn': bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account } },
    }),
  );
}

/** Switches on EventBridge notifications of a bucket of this app; warns for an imported one. */
function ensureEventBridge(scope: Construct, bucket: s3.IBucket): void {
  const cfn = bucket.node.defaultChild;
  if (cfn instanceof s3.CfnBucket) {
    const current = (cfn.notificationConfiguration ?? {}) as s3.CfnBucket.NotificationConfigurationProperty;
    cfn.notificationConfiguration = { ...current, eventBridgeConfiguration: { eventBridgeEnabled: true } };
    return;
  }
  Annotations.of(scope).addWarningV2(
    'devcontainer-factory:source-bucket-eventbridge',
    `the source bucket ${bucket.node.path} is imported: make sure it sends events to EventBridge (S3 "Amazon EventBridge" notifications on), or no pipeline ever starts`,
  );
}

/**
 * A warehouse found by namespace: every value is an SSM parameter resolved at
 * deploy time, referenced only when a pipeline uses it (an unused parameter would
 * be a template warning).
 */
class ImportedWarehouse extends WarehouseBase {
  private readonly names: ReturnType<typeof parameterNames>;
  private readonly cache = new Map<string, unknown>();

  constructor(
    scope: Construct,
    id: string,
    public readonly namespace: string,
  ) {
    super(scope, id);
    this.names = parameterNames(namespace);
  }

  public get s3Key(): kms.IKey {
    return this.once('S3Key', () => kms.Key.fromKeyArn(this, 'S3Key', this.value(this.names.s3KeyArn)));
  }

  public get ecrKey(): kms.IKey {
    return this.once('EcrKey', () => kms.Key.fromKeyArn(this, 'EcrKey', this.value(this.names.ecrKeyArn)));
  }

  public get failureTopic(): sns.ITopic {
    return this.once('FailureTopic', () => sns.Topic.fromTopicArn(this, 'FailureTopic', this.value(this.names.failureTopicArn)));
  }

  public get sourceBucket(): s3.IBucket {
    return this.once('SourceBucket', () =>
      s3.Bucket.fromBucketAttributes(this, 'SourceBucket', { bucketName: this.value(this.names.sourceBucketName), encryptionKey: this.s3Key }),
    );
  }

  public get artifactBucket(): s3.IBucket {
    return this.once('ArtifactBucket', () =>
      s3.Bucket.fromBucketAttributes(this, 'ArtifactBucket', { bucketName: this.value(this.names.artifactBucketName), encryptionKey: this.s3Key }),
    );
  }

  private value(parameterName: string): string {
    return ssm.StringParameter.valueForStringParameter(this, parameterName);
  }

  private once<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }
}
