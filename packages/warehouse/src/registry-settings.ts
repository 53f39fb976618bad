import { Annotations, CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as signer from 'aws-cdk-lib/aws-signer';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import {
  REGISTRY_SCANNING_LIMITS,
  REGISTRY_SCAN_TYPES,
  REGISTRY_SETTINGS_RESOURCE_TYPES,
  SIGNING_LIMITS,
  isPullThroughCachePrefix,
  isRegistryRepositoryFilter,
  scanningResourceProperties,
  signingResourceProperties,
  type RegistryScanType,
} from '@devcontainer-factory/core';
import { acknowledgeNag, nagText } from './nag';
import { REGISTRY_SETTINGS_SERVICE_TIMEOUT, RegistrySettingsProvider } from './private/registry-settings-provider';

export type { RegistryScanType } from '@devcontainer-factory/core';

/** What the scanning custom resource may do: read and write the registry scanning configuration (account-wide, `*` only). */
export const REGISTRY_SCANNING_ACTIONS: readonly string[] = ['ecr:GetRegistryScanningConfiguration', 'ecr:PutRegistryScanningConfiguration'];

/**
 * What ECR asks of the caller when the configuration it puts is `ENHANCED`, as the merge
 * does whenever the account is on ENHANCED (it never downgrades) or `scanType` asks for
 * it: ECR turns on Amazon Inspector's ECR scanning with the caller's permissions. No
 * `inspector2:Disable`: the merge never turns it off.
 */
export const ENHANCED_SCANNING_ACTIONS: readonly string[] = ['inspector2:Enable', 'inspector2:ListAccountPermissions'];

/** What the signing custom resource may do: read, write and (when its rule was the last) delete the signing configuration. */
export const REGISTRY_SIGNING_ACTIONS: readonly string[] = ['ecr:GetSigningConfiguration', 'ecr:PutSigningConfiguration', 'ecr:DeleteSigningConfiguration'];

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
   * Repository filters (ECR wildcards, e.g. `devcontainers/*`, 1 to 100) whose
   * repositories are scanned on push. They are merged into the account's one registry
   * scanning configuration by a custom resource (`Custom::EcrRegistryScanning`), never
   * replacing it: it reads what the account and region have and adds these filters to
   * the `SCAN_ON_PUSH` rule, leaving every other rule and filter (another namespace's,
   * the account's own `CONTINUOUS_SCAN` rule) and the scan type as they are. An update
   * removes only the filters its previous deploy added and drops; deleting the stack
   * removes only these filters. A filter is this stack's own once it names it: two stacks
   * that name the same filter share it, and the first deleted removes it.
   * @default - no scanning filters: the account's scanning configuration stays as it is
   */
  readonly scanOnPushFilters?: string[];
  /**
   * The scan type these filters need at least. The merge never downgrades: an account on
   * `ENHANCED` (Amazon Inspector) stays on it with `BASIC` here (Inspector scans on push
   * too, and the vulnerability gate reads its findings). `ENHANCED` upgrades an account
   * on `BASIC`: Amazon Inspector then scans every filter of the account, the other
   * namespaces' too, and deleting the stack does not downgrade it again.
   * @default 'BASIC'
   */
  readonly scanType?: RegistryScanType;
  /**
   * The repository prefix of an ECR pull-through cache rule for ECR Public (which
   * needs no credentials): `<registry>/<prefix>/<path>` serves `public.ecr.aws/<path>`
   * from the account's own registry. Each rule is a resource of its own
   * (`AWS::ECR::PullThroughCacheRule`), so nothing is merged: a prefix is unique in the
   * account and region, and a deploy whose prefix the account has already (another
   * namespace's or its own rule) fails, as ECR refuses a second rule, rather than take
   * the rule over. Deleting the stack deletes only its own rule.
   * @default - no pull-through cache rule
   */
  readonly ecrPublicCachePrefix?: string;
  /**
   * Pull-through cache rules for upstream registries that need credentials: Docker Hub
   * (authenticated, so not subject to the anonymous pull limits of CodeBuild's shared
   * addresses), GHCR or Quay. Each prefix is unique in the account and region: as for
   * `ecrPublicCachePrefix`, a deploy whose prefix exists already fails, and deleting the
   * stack deletes only its own rules.
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
   * configuration exists per account and region: a custom resource
   * (`Custom::EcrSigningConfiguration`) merges these filters into the rule of the profile
   * (a new rule when the account has none for it), leaving the other rules as they are;
   * deleting the stack removes only these filters (the rule when it has no others, the
   * configuration when no rule is left).
   * @default - no signing rule: the account's signing configuration is left as it is
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
 * in a synth-time info annotation. None is silently overwritten: scanning filters and
 * signing rules are merged into the account's configuration (and only this stack's are
 * taken out again), a pull-through cache prefix that exists already fails the deploy
 * (ECR refuses a second rule for it), and blob mounting is only ever switched on.
 */
export class RegistrySettings extends Construct {
  /**
   * The custom resource that merges `scanOnPushFilters` into the account's scanning
   * configuration, when asked; `getAttString('ScanType')` is the account's scan type after the merge.
   */
  public readonly scanningConfiguration?: CustomResource;
  /** The pull-through cache rule for ECR Public, when `ecrPublicCachePrefix` asked for one. */
  public readonly ecrPublicCacheRule?: ecr.CfnPullThroughCacheRule;
  /** The pull-through cache rules of `upstreamCaches`, by prefix. */
  public readonly upstreamCacheRules: Readonly<Record<string, ecr.CfnPullThroughCacheRule>> = {};
  /** The custom resource that enables blob mounting, when `blobMounting` asked for it. */
  public readonly blobMountingSetting?: AwsCustomResource;
  /** The custom resource that merges `signing` into the account's signing configuration, when asked. */
  public readonly signingConfiguration?: CustomResource;
  /** The profile images are signed with, when `signing` asked for it. */
  public readonly signingProfile?: signer.ISigningProfile;

  private provider?: RegistrySettingsProvider;

  constructor(scope: Construct, id: string, props: RegistrySettingsProps = {}) {
    super(scope, id);
    const filters = [...new Set(props.scanOnPushFilters ?? [])];
    const scanType = props.scanType ?? 'BASIC';
    if (!REGISTRY_SCAN_TYPES.includes(scanType))
      throw new Error(`RegistrySettings: scanType '${scanType}' is unknown: use ${REGISTRY_SCAN_TYPES.join(' or ')}`);
    const bad = filters.filter((f) => !isRegistryRepositoryFilter(f));
    if (bad.length) {
      throw new Error(
        `RegistrySettings: scanOnPushFilters ${bad.map((f) => `'${f}'`).join(', ')} are not ECR repository filters: use lowercase repository names with '*' wildcards, e.g. 'devcontainers/*'`,
      );
    }
    if (filters.length > REGISTRY_SCANNING_LIMITS.filtersPerRule) {
      throw new Error(
        `RegistrySettings: scanOnPushFilters has ${filters.length} filters, and ECR allows ${REGISTRY_SCANNING_LIMITS.filtersPerRule} in its scan-on-push rule (the account's and other namespaces' included): use fewer, wider wildcards`,
      );
    }
    if (props.scanType !== undefined && filters.length === 0) {
      throw new Error(
        'RegistrySettings: scanType is set but scanOnPushFilters is empty: name the repositories to scan, or leave both out to keep the account’s own scanning configuration',
      );
    }
    const cachePrefix = props.ecrPublicCachePrefix;
    if (cachePrefix !== undefined) {
      if (!isPullThroughCachePrefix(cachePrefix)) {
        throw new Error(
          `RegistrySettings: ecrPublicCachePrefix '${cachePrefix}' is not an ECR pull-through cache prefix: use 2 to 30 lowercase characters in '/'-separated components, e.g. 'devcontainers/ecr-public'`,
        );
      }
      this.ecrPublicCacheRule = new ecr.CfnPullThroughCacheRule(this, 'EcrPublicCache', {
        ecrRepositoryPrefix: cachePrefix,
        upstreamRegistry: 'ecr-public',
        upstreamRegistryUrl: 'public.ecr.aws',
      });
      Annotations.of(this).addInfo(
        `account-wide: the pull-through cache prefix ${cachePrefix}/ serves public.ecr.aws from this account's registry; a prefix exists once per account and region`,
      );
    }
    const prefixes = new Set(cachePrefix ? [cachePrefix] : []);
    for (const rule of props.upstreamCaches ?? []) {
      if (!isPullThroughCachePrefix(rule.prefix)) {
        throw new Error(
          `RegistrySettings: upstreamCaches prefix '${rule.prefix}' is not an ECR pull-through cache prefix: use 2 to 30 lowercase characters in '/'-separated components, e.g. 'devcontainers/docker-hub'`,
        );
      }
      if (prefixes.has(rule.prefix))
        throw new Error(`RegistrySettings: the pull-through cache prefix '${rule.prefix}' is used twice: give each rule its own prefix`);
      prefixes.add(rule.prefix);
      const url = CREDENTIALED_UPSTREAMS[rule.upstream];
      if (!url)
        throw new Error(
          `RegistrySettings: upstream '${rule.upstream}' of prefix '${rule.prefix}' is unknown: use ${Object.keys(CREDENTIALED_UPSTREAMS).join(', ')}`,
        );
      const credential =
        typeof rule.credential === 'string'
          ? secretsmanager.Secret.fromSecretNameV2(this, `Credential${rule.prefix.replace(/[^a-z0-9]/g, '')}`, rule.credential)
          : rule.credential;
      const name = credential.secretName;
      if (!Token.isUnresolved(name) && !name.startsWith(PULL_THROUGH_SECRET_PREFIX)) {
        throw new Error(
          `RegistrySettings: the credential secret '${name}' of prefix '${rule.prefix}' must be named '${PULL_THROUGH_SECRET_PREFIX}…': ECR reads pull-through cache credentials only from such secrets`,
        );
      }
      (this.upstreamCacheRules as Record<string, ecr.CfnPullThroughCacheRule>)[rule.prefix] = new ecr.CfnPullThroughCacheRule(
        this,
        `UpstreamCache${rule.prefix.replace(/[^a-z0-9]/g, '')}`,
        {
          ecrRepositoryPrefix: rule.prefix,
          upstreamRegistry: rule.upstream,
          upstreamRegistryUrl: url,
          credentialArn: credential.secretArn,
        },
      );
      Annotations.of(this).addInfo(
        `account-wide: the pull-through cache prefix ${rule.prefix}/ serves ${url} with the credentials in Secrets Manager; a prefix exists once per account and region`,
      );
    }
    if (props.blobMounting) this.blobMountingSetting = this.enableBlobMounting();
    if (props.signing) [this.signingConfiguration, this.signingProfile] = this.sign(props.signing);
    if (filters.length === 0) return;

    const provider = this.settingsProvider();
    provider.allow(REGISTRY_SCANNING_ACTIONS, ['*']);
    provider.allow(ENHANCED_SCANNING_ACTIONS, ['*']);
    if (scanType === 'ENHANCED') {
      // Upgrading a BASIC account: Amazon Inspector creates its service-linked role with the caller's permissions.
      provider.allow(
        ['iam:CreateServiceLinkedRole'],
        [
          Stack.of(this).formatArn({
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: 'aws-service-role/inspector2.amazonaws.com/AWSServiceRoleForAmazonInspector2',
          }),
        ],
        {
          StringEquals: { 'iam:AWSServiceName': 'inspector2.amazonaws.com' },
        },
      );
    }
    this.scanningConfiguration = new CustomResource(this, 'Scanning', {
      serviceToken: provider.serviceToken,
      resourceType: REGISTRY_SETTINGS_RESOURCE_TYPES.scanning,
      serviceTimeout: REGISTRY_SETTINGS_SERVICE_TIMEOUT,
      properties: { ...scanningResourceProperties({ scanType, filters }) },
    });
    Annotations.of(this).addInfo(
      `account-wide: this stack merges its scan-on-push filters (${filters.join(', ')}) into the ECR registry scanning configuration of its account and region, ` +
        "keeping the account's other rules and filters and never downgrading an ENHANCED account; deleting the stack removes only these filters" +
        (scanType === 'ENHANCED'
          ? '; scanType ENHANCED upgrades a BASIC account to ENHANCED (Amazon Inspector then scans every filter of the account), and deleting the stack does not downgrade it'
          : ''),
    );
  }

  /** The one provider of this construct's merged settings, created on first use. */
  private settingsProvider(): RegistrySettingsProvider {
    if (this.provider) return this.provider;
    this.provider = new RegistrySettingsProvider(this, 'MergeProvider');
    acknowledgeNag(
      this.provider.role,
      'IAM5',
      "the registry scanning and signing configurations are account-wide, and so are inspector2:Enable and ListAccountPermissions (ECR turns on Inspector with the caller's permissions when it puts ENHANCED): none takes a resource narrower than *",
      'Resource::*',
    );
    return this.provider;
  }

  /** The merged signing rule of `signing`, with its profile. */
  private sign(props: RegistrySigning): [CustomResource, signer.ISigningProfile] {
    const filters = [...new Set(props.repositoryFilters)];
    if (filters.length === 0 || filters.length > SIGNING_LIMITS.filtersPerRule) {
      throw new Error(
        `RegistrySettings: signing.repositoryFilters has ${filters.length} filters: name 1 to ${SIGNING_LIMITS.filtersPerRule} repositories or wildcards, e.g. 'devcontainers/images/*'`,
      );
    }
    const bad = filters.filter((f) => !isRegistryRepositoryFilter(f));
    if (bad.length)
      throw new Error(
        `RegistrySettings: signing.repositoryFilters ${bad.map((f) => `'${f}'`).join(', ')} are not ECR repository filters: use lowercase repository names with '*' wildcards`,
      );
    const profile =
      props.signingProfile ??
      new signer.SigningProfile(this, 'SigningProfile', {
        platform: signer.Platform.NOTATION_OCI_SHA384_ECDSA,
        signatureValidity: props.signatureValidity ?? Duration.days(135),
      });
    const provider = this.settingsProvider();
    provider.allow(REGISTRY_SIGNING_ACTIONS, ['*']);
    const configuration = new CustomResource(this, 'Signing', {
      serviceToken: provider.serviceToken,
      resourceType: REGISTRY_SETTINGS_RESOURCE_TYPES.signing,
      serviceTimeout: REGISTRY_SETTINGS_SERVICE_TIMEOUT,
      properties: { ...signingResourceProperties({ signingProfileArn: profile.signingProfileArn, filters }) },
    });
    Annotations.of(this).addInfo(
      `account-wide: this stack merges a signing rule for its profile (${filters.join(', ')}) into the ECR signing configuration of its account and region, keeping the account's other rules; deleting the stack removes only these filters`,
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
