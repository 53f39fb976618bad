import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as signer from 'aws-cdk-lib/aws-signer';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { isPullThroughCachePrefix } from '@devcontainer-factory/core';
import { acknowledgeNag, nagText } from './nag';

/** ECR's scan types: `BASIC` (free, OS packages) or `ENHANCED` (Amazon Inspector, also language packages). */
export type RegistryScanType = 'BASIC' | 'ENHANCED';
const SCAN_TYPES: readonly RegistryScanType[] = ['BASIC', 'ENHANCED'];
/** What ECR accepts in a repository filter of a scanning rule: repository name characters and `*`. */
const REPOSITORY_FILTER = /^[a-z0-9*][a-z0-9._/*-]*$/;

/** Upstream registries a credentialed pull-through cache rule can serve, with the host ECR pulls from. */
export const CREDENTIALED_UPSTREAMS = {
  'docker-hub': 'registry-1.docker.io',
  'github-container-registry': 'ghcr.io',
  quay: 'quay.io',
} as const;
export type CredentialedUpstream = keyof typeof CREDENTIALED_UPSTREAMS;

/** ECR reads pull-through cache credentials only from secrets whose name starts with this. */
export const PULL_THROUGH_SECRET_PREFIX = 'ecr-pullthroughcache/';

/** A pull-through cache rule for an upstream registry that needs credentials (Docker Hub, GHCR, Quay). */
export interface UpstreamCacheRule {
  /** The repository prefix in the account's registry, e.g. `devcontainers/docker-hub`: `<registry>/<prefix>/library/python` serves `docker.io/library/python`. */
  readonly prefix: string;
  readonly upstream: CredentialedUpstream;
  /**
   * The Secrets Manager secret with the upstream credentials, as JSON
   * `{"username": "…", "accessToken": "…"}`, or its name; the name must start with
   * `ecr-pullthroughcache/` (ECR's service-linked role reads only those).
   */
  readonly credential: secretsmanager.ISecret | string;
}

export interface RegistrySettingsProps {
  /**
   * Repository filters (ECR wildcards, e.g. `devcontainers/*`) whose repositories are
   * scanned on push. Setting any creates the account's one
   * `AWS::ECR::RegistryScanningConfiguration`, which replaces whatever scanning
   * configuration the account and region had, and deleting the stack resets it.
   * @default - no scanning configuration: the account's own stays as it is
   */
  readonly scanOnPushFilters?: string[];
  /**
   * The scan type of that configuration.
   * @default 'BASIC'
   */
  readonly scanType?: RegistryScanType;
  /**
   * The repository prefix of an ECR pull-through cache rule for ECR Public (which
   * needs no credentials): `<registry>/<prefix>/<path>` serves `public.ecr.aws/<path>`
   * from the account's own registry. A prefix is unique in the account and region.
   * @default - no pull-through cache rule
   */
  readonly ecrPublicCachePrefix?: string;
  /**
   * Pull-through cache rules for upstream registries that need credentials: Docker Hub
   * (authenticated, so not subject to the anonymous pull limits of CodeBuild's shared
   * addresses), GHCR or Quay. Each prefix is unique in the account and region.
   * @default - none
   */
  readonly upstreamCaches?: UpstreamCacheRule[];
  /**
   * Turn on ECR blob mounting for the account and region (`PutAccountSetting`
   * `BLOB_MOUNTING` = `ENABLED`, through a custom resource, on create and update),
   * so that a push can mount a layer that another repository of the registry
   * already holds instead of uploading it again (Release's promotion from
   * `<ns>/builds/<id>` to `<ns>/images/<id>` does). ECR mounts a layer only:
   * - within one registry (the same account and region);
   * - between repositories with identical encryption type and key (the warehouse's
   *   repository creation template gives every `<ns>/` repository the same KMS key);
   * - not into or out of pull-through cache repositories;
   * - when the caller may `ecr:GetDownloadUrlForLayer` on the source repository.
   *
   * Deleting the stack, or turning this off again, does NOT reset the account's
   * setting: another namespace or tool in the account may rely on it. Disable it
   * yourself (`aws ecr put-account-setting --name BLOB_MOUNTING --value DISABLED`)
   * if nothing does; layers that were mounted stay mounted.
   * @default false - the account's blob mounting setting is left as it is
   */
  readonly blobMounting?: boolean;
  /**
   * ECR managed signing: every image pushed to a repository matching
   * `repositoryFilters` is signed by ECR with an AWS Signer profile (Notation, OCI
   * SHA384 ECDSA), the signature stored beside it as an OCI referrer. One signing
   * configuration exists per account and region, so this replaces the account's own.
   * @default - no signing configuration: the account's own is left as it is
   */
  readonly signing?: RegistrySigning;
}

/** What {@link RegistrySettingsProps.signing} signs, and with which profile. */
export interface RegistrySigning {
  /** ECR wildcard filters of the repositories to sign, e.g. `devcontainers/images/*`, `devcontainers/features/*` (1 to 100). */
  readonly repositoryFilters: string[];
  /**
   * The AWS Signer profile to sign with.
   * @default - a new `Notation-OCI-SHA384-ECDSA` profile, valid for `signatureValidity`
   */
  readonly signingProfile?: signer.ISigningProfile;
  /**
   * How long a signature of the created profile stays valid.
   * @default Duration.days(135) - AWS Signer's default
   */
  readonly signatureValidity?: Duration;
}

/** The construct id of the singleton Lambda that every `AwsCustomResource` of a stack shares. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;

/**
 * The ECR settings that exist once per account and region, gathered in one place so
 * that none is set by accident: a reusable construct creates none of them unless
 * asked (each prop is off by default), and each one that is switched on is named
 * in a synth-time info annotation, since it overrides the account's own setting.
 */
export class RegistrySettings extends Construct {
  /** The scanning configuration, when `scanOnPushFilters` asked for one. */
  public readonly scanningConfiguration?: ecr.CfnRegistryScanningConfiguration;
  /** The pull-through cache rule for ECR Public, when `ecrPublicCachePrefix` asked for one. */
  public readonly ecrPublicCacheRule?: ecr.CfnPullThroughCacheRule;
  /** The pull-through cache rules of `upstreamCaches`, by prefix. */
  public readonly upstreamCacheRules: Readonly<Record<string, ecr.CfnPullThroughCacheRule>> = {};
  /** The custom resource that enables blob mounting, when `blobMounting` asked for it. */
  public readonly blobMountingSetting?: AwsCustomResource;
  /** The signing configuration, when `signing` asked for one. */
  public readonly signingConfiguration?: ecr.CfnSigningConfiguration;
  /** The profile images are signed with, when `signing` asked for it. */
  public readonly signingProfile?: signer.ISigningProfile;

  constructor(scope: Construct, id: string, props: RegistrySettingsProps = {}) {
    super(scope, id);
    const filters = props.scanOnPushFilters ?? [];
    const scanType = props.scanType ?? 'BASIC';
    if (!SCAN_TYPES.includes(scanType)) throw new Error(`RegistrySettings: scanType '${scanType}' is unknown: use ${SCAN_TYPES.join(' or ')}`);
    const bad = filters.filter((f) => !REPOSITORY_FILTER.test(f) || f.length > 256);
    if (bad.length) {
      throw new Error(`RegistrySettings: scanOnPushFilters ${bad.map((f) => `'${f}'`).join(', ')} are not ECR repository filters: use lowercase repository names with '*' wildcards, e.g. 'devcontainers/*'`);
    }
    if (props.scanType !== undefined && filters.length === 0) {
      throw new Error('RegistrySettings: scanType is set but scanOnPushFilters is empty: name the repositories to scan, or leave both out to keep the account’s own scanning configuration');
    }
    const cachePrefix = props.ecrPublicCachePrefix;
    if (cachePrefix !== undefined) {
      if (!isPullThroughCachePrefix(cachePrefix)) {
        throw new Error(`RegistrySettings: ecrPublicCachePrefix '${cachePrefix}' is not an ECR pull-through cache prefix: use 2 to 30 lowercase characters in '/'-separated components, e.g. 'devcontainers/ecr-public'`);
      }
      this.ecrPublicCacheRule = new ecr.CfnPullThroughCacheRule(this, 'EcrPublicCache', {
        ecrRepositoryPrefix: cachePrefix,
        upstreamRegistry: 'ecr-public',
        upstreamRegistryUrl: 'public.ecr.aws',
      });
      Annotations.of(this).addInfo(`account-wide: the pull-through cache prefix ${cachePrefix}/ serves public.ecr.aws from this account's registry; a prefix exists once per account and region`);
    }
    const prefixes = new Set(cachePrefix ? [cachePrefix] : []);
    for (const rule of props.upstreamCaches ?? []) {
      if (!isPullThroughCachePrefix(rule.prefix)) {
        throw new Error(`RegistrySettings: upstreamCaches prefix '${rule.prefix}' is not an ECR pull-through cache prefix: use 2 to 30 lowercase characters in '/'-separated components, e.g. 'devcontainers/docker-hub'`);
      }
      if (prefixes.has(rule.prefix)) throw new Error(`RegistrySettings: the pull-through cache prefix '${rule.prefix}' is used twice: give each rule its own prefix`);
      prefixes.add(rule.prefix);
      const url = CREDENTIALED_UPSTREAMS[rule.upstream];
      if (!url) throw new Error(`RegistrySettings: upstream '${rule.upstream}' of prefix '${rule.prefix}' is unknown: use ${Object.keys(CREDENTIALED_UPSTREAMS).join(', ')}`);
      const credential =
        typeof rule.credential === 'string' ? secretsmanager.Secret.fromSecretNameV2(this, `Credential${rule.prefix.replace(/[^a-z0-9]/g, '')}`, rule.credential) : rule.credential;
      const name = credential.secretName;
      if (!Token.isUnresolved(name) && !name.startsWith(PULL_THROUGH_SECRET_PREFIX)) {
        throw new Error(`RegistrySettings: the credential secret '${name}' of prefix '${rule.prefix}' must be named '${PULL_THROUGH_SECRET_PREFIX}…': ECR reads pull-through cache credentials only from such secrets`);
      }
      (this.upstreamCacheRules as Record<string, ecr.CfnPullThroughCacheRule>)[rule.prefix] = new ecr.CfnPullThroughCacheRule(this, `UpstreamCache${rule.prefix.replace(/[^a-z0-9]/g, '')}`, {
        ecrRepositoryPrefix: rule.prefix,
        upstreamRegistry: rule.upstream,
        upstreamRegistryUrl: url,
        credentialArn: credential.secretArn,
      });
      Annotations.of(this).addInfo(`account-wide: the pull-through cache prefix ${rule.prefix}/ serves ${url} with the credentials in Secrets Manager; a prefix exists once per account and region`);
    }
    if (props.blobMounting) this.blobMountingSetting = this.enableBlobMounting();
    if (props.signing) [this.signingConfiguration, this.signingProfile] = this.sign(props.signing);
    if (filters.length === 0) return;

    this.scanningConfiguration = new ecr.CfnRegistryScanningConfiguration(this, 'Scanning', {
      scanType,
      rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters.map((filter) => ({ filter, filterType: 'WILDCARD' })) }],
    });
    Annotations.of(this).addInfo(
      `account-wide: this stack owns the ECR registry scanning configuration of its account and region (${scanType}, ${filters.join(', ')}); another one deployed in the same account and region replaces it`,
    );
  }

  /** The signing configuration of `signing`, with its profile. */
  private sign(props: RegistrySigning): [ecr.CfnSigningConfiguration, signer.ISigningProfile] {
    const filters = props.repositoryFilters;
    if (filters.length === 0 || filters.length > 100) throw new Error(`RegistrySettings: signing.repositoryFilters has ${filters.length} filters: name 1 to 100 repositories or wildcards, e.g. 'devcontainers/images/*'`);
    const bad = filters.filter((f) => !REPOSITORY_FILTER.test(f) || f.length > 256);
    if (bad.length) throw new Error(`RegistrySettings: signing.repositoryFilters ${bad.map((f) => `'${f}'`).join(', ')} are not ECR repository filters: use lowercase repository names with '*' wildcards`);
    const profile =
      props.signingProfile ??
      new signer.SigningProfile(this, 'SigningProfile', { platform: signer.Platform.NOTATION_OCI_SHA384_ECDSA, signatureValidity: props.signatureValidity ?? Duration.days(135) });
    const configuration = new ecr.CfnSigningConfiguration(this, 'Signing', {
      rules: [{ signingProfileArn: profile.signingProfileArn, repositoryFilters: filters.map((filter) => ({ filter, filterType: 'WILDCARD_MATCH' })) }],
    });
    Annotations.of(this).addInfo(
      `account-wide: this stack owns the ECR signing configuration of its account and region (${filters.join(', ')}); another one deployed in the same account and region replaces it`,
    );
    return [configuration, profile];
  }

  /** `PutAccountSetting BLOB_MOUNTING=ENABLED` on create and update; nothing on delete. */
  private enableBlobMounting(): AwsCustomResource {
    const call = {
      service: 'ECR',
      action: 'PutAccountSetting',
      parameters: { name: 'BLOB_MOUNTING', value: 'ENABLED' },
      // One setting per account and region: the same id on every update, so no replacement (and no delete) ever happens.
      physicalResourceId: PhysicalResourceId.of('ecr-account-setting-BLOB_MOUNTING'),
    };
    const setting = new AwsCustomResource(this, 'BlobMounting', {
      resourceType: 'Custom::EcrAccountSetting',
      onCreate: call,
      onUpdate: call,
      // No onDelete: the account keeps blob mounting, which another namespace may rely on.
      policy: AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['ecr:PutAccountSetting'], resources: ['*'] })]),
      // The Lambda runtime's own SDK knows PutAccountSetting: no install from npm at deploy time.
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'BlobMountingLogs', { retention: logs.RetentionDays.ONE_YEAR }),
    });
    acknowledgeNag(setting, 'IAM5', 'ecr:PutAccountSetting is account-wide: ECR allows no resource narrower than *', 'Resource::*');
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    if (provider) acknowledgeCustomResourceProvider(provider);
    Annotations.of(this).addInfo(
      'account-wide: this stack turns on ECR blob mounting (BLOB_MOUNTING=ENABLED) for its account and region; deleting the stack leaves it on, since another namespace may rely on it',
    );
    return setting;
  }
}

/**
 * The finding of aws-cdk-lib's singleton `AwsCustomResource` Lambda, which the construct library owns (its
 * runtime is the latest Node.js that aws-cdk-lib knows, so AwsSolutions-L1 holds).
 */
function acknowledgeCustomResourceProvider(provider: IConstruct): void {
  // The same ARN the provider's role gets, so the text matches whatever the stack's environment and partition flags are.
  const basicExecution = iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole').managedPolicyArn;
  acknowledgeNag(
    provider,
    'IAM4',
    "aws-cdk-lib's AwsCustomResource Lambda role carries AWSLambdaBasicExecutionRole, which grants CloudWatch Logs writes only; the singleton is shared by every AwsCustomResource of the stack",
    `Policy::${nagText(provider, basicExecution)}`,
  );
}
