import { Annotations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { isPullThroughCachePrefix } from '@devcontainer-factory/lambdas';

/** ECR's scan types: `BASIC` (free, OS packages) or `ENHANCED` (Amazon Inspector, also language packages). */
export type RegistryScanType = 'BASIC' | 'ENHANCED';
const SCAN_TYPES: readonly RegistryScanType[] = ['BASIC', 'ENHANCED'];
/** What ECR accepts in a repository filter of a scanning rule: repository name characters and `*`. */
const REPOSITORY_FILTER = /^[a-z0-9*][a-z0-9._/*-]*$/;

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
}

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
    if (filters.length === 0) return;

    this.scanningConfiguration = new ecr.CfnRegistryScanningConfiguration(this, 'Scanning', {
      scanType,
      rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters.map((filter) => ({ filter, filterType: 'WILDCARD' })) }],
    });
    Annotations.of(this).addInfo(
      `account-wide: this stack owns the ECR registry scanning configuration of its account and region (${scanType}, ${filters.join(', ')}); another one deployed in the same account and region replaces it`,
    );
  }
}
