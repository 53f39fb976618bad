/**
 * The account-wide ECR settings that several namespaces (and the account's own owners)
 * share — the registry scanning configuration and the signing configuration — merged
 * instead of replaced. ECR has one of each per account and region, and its `Put…` calls
 * replace the whole of it; these functions work out the configuration to put so that a
 * namespace adds only its own repository filters and, when it goes, takes away only
 * those, leaving every other rule, filter and the scan type as the account had them.
 *
 * Plan first, then write: each function returns the whole configuration to put, what it
 * adds and removes, and notes for the log; it throws {@link RegistrySettingsLimitError}
 * before anything is written when the result would break one of ECR's limits.
 *
 * The scan type rule: a merge never downgrades. An account on `ENHANCED` (Amazon
 * Inspector) stays on it whatever a namespace asks — Inspector scans on push too, and
 * the vulnerability gate reads its findings (`enhancedFindings`, status `ACTIVE`) — and a
 * namespace that asks `ENHANCED` of an account on `BASIC` upgrades the account (the other
 * namespaces' filters are then scanned by Inspector as well). Removing a namespace's
 * filters leaves the scan type as it is.
 */
import { FactoryError } from '../factory-error';

/** ECR's registry scan types: `BASIC` (free, OS packages) or `ENHANCED` (Amazon Inspector, also language packages). */
export type RegistryScanType = 'BASIC' | 'ENHANCED';
export const REGISTRY_SCAN_TYPES: readonly RegistryScanType[] = ['BASIC', 'ENHANCED'];

/** The scan frequency whose rule a namespace adds its filters to. */
export const SCAN_ON_PUSH = 'SCAN_ON_PUSH';
/** The scan frequency of enhanced scanning that rescans as new vulnerabilities are published (and scans on push). */
export const CONTINUOUS_SCAN = 'CONTINUOUS_SCAN';
/** The only filter type of a scanning rule. */
export const SCANNING_FILTER_TYPE = 'WILDCARD';
/** The only filter type of a signing rule. */
export const SIGNING_FILTER_TYPE = 'WILDCARD_MATCH';

/** ECR's limits on the registry scanning configuration (`PutRegistryScanningConfiguration`). */
export const REGISTRY_SCANNING_LIMITS = {
  /** Rules per configuration (one per scan frequency in practice). */
  rules: 2,
  /** Repository filters per rule. */
  filtersPerRule: 100,
  /** Characters per filter. */
  filterLength: 255,
} as const;

/** ECR's limits on the signing configuration (`PutSigningConfiguration`). */
export const SIGNING_LIMITS = {
  /** Rules per configuration. */
  rules: 10,
  /** Repository filters per rule (a rule without filters signs every repository). */
  filtersPerRule: 100,
  /** Characters per filter. */
  filterLength: 255,
} as const;

/** ECR's pattern of a scanning repository filter: repository name characters and `*`, no separator at either end or twice in a row. */
const REPOSITORY_FILTER = /^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$/;

/** Whether ECR accepts `filter` as a repository filter of a scanning or signing rule (`devcontainers/*`, `acme/features`). */
export function isRegistryRepositoryFilter(filter: string): boolean {
  return filter.length >= 1 && filter.length <= REGISTRY_SCANNING_LIMITS.filterLength && REPOSITORY_FILTER.test(filter);
}

/** Thrown when account-wide settings cannot be merged; nothing was written. */
export class RegistrySettingsError extends FactoryError {}

/** Thrown when the merged configuration would break one of ECR's limits; nothing was written. */
export class RegistrySettingsLimitError extends RegistrySettingsError {}

/** A repository filter of a rule, as ECR's API carries it. */
export interface RegistryRepositoryFilter {
  readonly filter: string;
  readonly filterType: string;
}

/** One rule of a registry scanning configuration, as `GetRegistryScanningConfiguration` returns it. */
export interface RegistryScanningRule {
  readonly scanFrequency: string;
  readonly repositoryFilters: readonly RegistryRepositoryFilter[];
}

/** A registry scanning configuration, as `Get`/`PutRegistryScanningConfiguration` carry it. */
export interface RegistryScanningConfiguration {
  /** `BASIC` or `ENHANCED` (kept as ECR wrote it). */
  readonly scanType: string;
  readonly rules: readonly RegistryScanningRule[];
}

/** What one namespace wants of the scanning configuration: its repositories scanned on push, with at least this scan type. */
export interface ScanOnPushClaim {
  readonly scanType: RegistryScanType;
  /** ECR wildcard filters, e.g. `devcontainers/*`. */
  readonly filters: readonly string[];
}

/**
 * A change of one namespace's claim: on create `add` only; on update `add` (the new
 * properties) and `remove` (the previous ones: only what they added and the new ones do
 * not keep is removed); on delete `remove` only.
 */
export interface ClaimChange<C> {
  readonly add?: C;
  readonly remove?: C;
}

/** What {@link planScanOnPush} works out. */
export interface ScanningPlan {
  /** The whole configuration to put. */
  readonly configuration: RegistryScanningConfiguration;
  /** Whether it differs from the account's: when not, nothing needs to be written. */
  readonly changed: boolean;
  /** Filters added to the `SCAN_ON_PUSH` rule. */
  readonly added: readonly string[];
  /** Filters removed from it. */
  readonly removed: readonly string[];
  /** The account's scan type before and after. */
  readonly scanType: { readonly from: string; readonly to: string };
  /** What the plan kept or changed that the caller did not literally ask for, for the log. */
  readonly notes: readonly string[];
}

/** The account's scanning configuration when it has none (ECR's default): `BASIC`, no rules (manual scans only). */
export const DEFAULT_SCANNING_CONFIGURATION: RegistryScanningConfiguration = { scanType: 'BASIC', rules: [] };

const unique = (items: readonly string[]): string[] => [...new Set(items)];

function checkFilters(filters: readonly string[], what: string): void {
  const bad = filters.filter((f) => !isRegistryRepositoryFilter(f));
  if (bad.length) {
    throw new RegistrySettingsError(
      `${what}: ${bad.map((f) => JSON.stringify(f)).join(', ')} ${bad.length === 1 ? 'is not an ECR repository filter' : 'are not ECR repository filters'}: use 1 to 255 lowercase repository name characters with '*' wildcards, e.g. 'devcontainers/*'`,
    );
  }
}

function checkScanClaim(claim: ScanOnPushClaim, what: string): void {
  if (!REGISTRY_SCAN_TYPES.includes(claim.scanType))
    throw new RegistrySettingsError(`${what}: scan type ${JSON.stringify(claim.scanType)} is unknown: use ${REGISTRY_SCAN_TYPES.join(' or ')}`);
  checkFilters(claim.filters, what);
}

/**
 * The scanning configuration with one namespace's scan-on-push claim merged in (and/or
 * its previous claim taken out), see {@link ClaimChange}. Only the `SCAN_ON_PUSH` rule's
 * filters change: every other rule (an enhanced `CONTINUOUS_SCAN` rule, …) stays as it is;
 * a filter that a `CONTINUOUS_SCAN` rule already has is not added (those repositories are
 * scanned on push already, and more); the `SCAN_ON_PUSH` rule is dropped when its last
 * filter goes. The scan type is never downgraded: `ENHANCED` stays, `BASIC` becomes
 * `ENHANCED` when `add` asks for it, and `remove` alone leaves it as it is.
 *
 * @throws RegistrySettingsLimitError when the result would have more than 2 rules or 100 filters in a rule
 * @throws RegistrySettingsError when a claim holds a filter ECR refuses or an unknown scan type
 */
export function planScanOnPush(current: RegistryScanningConfiguration | undefined, change: ClaimChange<ScanOnPushClaim>): ScanningPlan {
  const account = current ?? DEFAULT_SCANNING_CONFIGURATION;
  if (change.add) checkScanClaim(change.add, 'the scan-on-push filters to add');
  if (change.remove) checkScanClaim(change.remove, 'the scan-on-push filters to remove');
  const notes: string[] = [];
  const wanted = unique(change.add?.filters ?? []);
  const rules = account.rules.map((r) => ({ scanFrequency: r.scanFrequency, repositoryFilters: [...(r.repositoryFilters ?? [])] }));
  let onPush = rules.find((r) => r.scanFrequency === SCAN_ON_PUSH);

  // Take out what the previous claim added and the new one does not keep.
  const removed: string[] = [];
  if (change.remove && onPush) {
    const going = new Set(unique(change.remove.filters).filter((f) => !wanted.includes(f)));
    const kept = onPush.repositoryFilters.filter((f) => !going.has(f.filter));
    removed.push(...onPush.repositoryFilters.filter((f) => going.has(f.filter)).map((f) => f.filter));
    onPush.repositoryFilters = kept;
  }

  // Add what is not there yet.
  const continuous = new Set(rules.filter((r) => r.scanFrequency === CONTINUOUS_SCAN).flatMap((r) => r.repositoryFilters.map((f) => f.filter)));
  const covered = wanted.filter((f) => continuous.has(f) && !onPush?.repositoryFilters.some((p) => p.filter === f));
  if (covered.length)
    notes.push(`${covered.join(', ')}: already in the account's ${CONTINUOUS_SCAN} rule (scanned on push and continuously), not added to ${SCAN_ON_PUSH}`);
  const added = wanted.filter((f) => !covered.includes(f) && !onPush?.repositoryFilters.some((p) => p.filter === f));
  if (added.length) {
    if (!onPush) {
      if (rules.length >= REGISTRY_SCANNING_LIMITS.rules) {
        throw new RegistrySettingsLimitError(
          `the registry's scanning configuration has ${rules.length} rules already (${rules.map((r) => r.scanFrequency).join(', ')}), none of them ${SCAN_ON_PUSH}, and ECR allows ${REGISTRY_SCANNING_LIMITS.rules}: ` +
            `a ${SCAN_ON_PUSH} rule for ${added.join(', ')} does not fit. Nothing was changed; add the filters to one of the account's rules yourself (aws ecr put-registry-scanning-configuration), or turn this namespace's scanning off`,
        );
      }
      onPush = { scanFrequency: SCAN_ON_PUSH, repositoryFilters: [] };
      rules.push(onPush);
    }
    const total = onPush.repositoryFilters.length + added.length;
    if (total > REGISTRY_SCANNING_LIMITS.filtersPerRule) {
      throw new RegistrySettingsLimitError(
        `the registry's ${SCAN_ON_PUSH} scanning rule would hold ${total} repository filters, and ECR allows ${REGISTRY_SCANNING_LIMITS.filtersPerRule}: it has ${onPush.repositoryFilters.length} (the account's own and other namespaces') and this adds ${added.length} (${added.join(', ')}). ` +
          'Nothing was changed; remove filters the account no longer needs (aws ecr get-registry-scanning-configuration, then put-registry-scanning-configuration), or use fewer, wider wildcards',
      );
    }
    onPush.repositoryFilters.push(...added.map((filter) => ({ filter, filterType: SCANNING_FILTER_TYPE })));
  }
  // The rule goes when this change took its last filter (an empty rule the account had itself stays).
  const result = removed.length > 0 && onPush?.repositoryFilters.length === 0 ? rules.filter((r) => r !== onPush) : rules;

  const from = account.scanType || 'BASIC';
  let to = from;
  if (change.add?.scanType === 'ENHANCED' && from === 'BASIC') {
    to = 'ENHANCED';
    notes.push(
      'scan type BASIC -> ENHANCED, as this namespace asks: Amazon Inspector now scans every filter of the account, and removing this namespace does not downgrade it',
    );
  } else if (change.add?.scanType === 'BASIC' && from === 'ENHANCED') {
    notes.push(
      'the account scans with ENHANCED (Amazon Inspector): kept, never downgraded to the BASIC this namespace asks; its repositories are scanned on push by Inspector',
    );
  }
  const configuration: RegistryScanningConfiguration = { scanType: to, rules: result };
  const changed = to !== from || added.length > 0 || removed.length > 0;
  return { configuration, changed, added, removed, scanType: { from, to }, notes };
}

/** One rule of a signing configuration, as `GetSigningConfiguration` returns it. */
export interface SigningRule {
  readonly signingProfileArn: string;
  /** When absent or empty, the rule signs every repository. */
  readonly repositoryFilters?: readonly RegistryRepositoryFilter[];
}

/** A registry's signing configuration, as `Get`/`PutSigningConfiguration` carry it. */
export interface SigningConfiguration {
  readonly rules: readonly SigningRule[];
}

/** What one namespace wants signed: these repositories, with this AWS Signer profile. */
export interface SigningClaim {
  readonly signingProfileArn: string;
  /** ECR wildcard filters, e.g. `devcontainers/images/*` (1 to 100). */
  readonly filters: readonly string[];
}

/** What {@link planSigning} works out. */
export interface SigningPlan {
  /** The whole configuration to put (no rules: see `action`). */
  readonly configuration: SigningConfiguration;
  /** `put` the configuration, `delete` the account's (its last rule went), or `none` (nothing changes). */
  readonly action: 'put' | 'delete' | 'none';
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly notes: readonly string[];
}

function checkSigningClaim(claim: SigningClaim, what: string): void {
  if (typeof claim.signingProfileArn !== 'string' || !/^arn:[^:]+:signer:[^:]*:\d{12}:\/signing-profiles\/\w{2,}$/.test(claim.signingProfileArn)) {
    throw new RegistrySettingsError(
      `${what}: ${JSON.stringify(claim.signingProfileArn)} is not an AWS Signer signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)`,
    );
  }
  if (claim.filters.length === 0)
    throw new RegistrySettingsError(
      `${what}: no repository filters: a signing rule without filters would sign every repository of the account; name 1 to ${SIGNING_LIMITS.filtersPerRule}`,
    );
  checkFilters(claim.filters, what);
}

/**
 * The signing configuration with one namespace's claim merged in (and/or its previous
 * claim taken out), see {@link ClaimChange}. The namespace's filters go into the rule of
 * its signing profile (a new rule when the account has none for it); a rule of that
 * profile without filters, which signs every repository already, is left alone. A rule
 * whose last filter is removed is dropped (never left without filters, which would sign
 * everything); when no rule is left, the plan deletes the configuration. Rules of other
 * profiles are never touched.
 *
 * @throws RegistrySettingsLimitError when the result would have more than 10 rules or 100 filters in a rule
 * @throws RegistrySettingsError when a claim has no filters, a filter ECR refuses or no profile ARN
 */
export function planSigning(current: SigningConfiguration | undefined, change: ClaimChange<SigningClaim>): SigningPlan {
  if (change.add) checkSigningClaim(change.add, 'the signing filters to add');
  if (change.remove) checkSigningClaim(change.remove, 'the signing filters to remove');
  const before = current?.rules ?? [];
  const rules = before.map((r) => ({
    signingProfileArn: r.signingProfileArn,
    repositoryFilters: [...(r.repositoryFilters ?? [])],
    signsAll: (r.repositoryFilters ?? []).length === 0,
  }));
  const notes: string[] = [];
  const wanted = unique(change.add?.filters ?? []);

  const removed: string[] = [];
  if (change.remove) {
    const keep = change.add?.signingProfileArn === change.remove.signingProfileArn ? wanted : [];
    const going = new Set(unique(change.remove.filters).filter((f) => !keep.includes(f)));
    for (const rule of rules.filter((r) => r.signingProfileArn === change.remove!.signingProfileArn && !r.signsAll)) {
      removed.push(...rule.repositoryFilters.filter((f) => going.has(f.filter)).map((f) => f.filter));
      rule.repositoryFilters = rule.repositoryFilters.filter((f) => !going.has(f.filter));
    }
  }

  const added: string[] = [];
  if (change.add) {
    const arn = change.add.signingProfileArn;
    const mine = rules.filter((r) => r.signingProfileArn === arn);
    if (mine.some((r) => r.signsAll)) {
      notes.push(`the account's rule for ${arn} has no repository filters, so it signs every repository already: left as it is`);
    } else {
      const have = new Set(mine.flatMap((r) => r.repositoryFilters.map((f) => f.filter)));
      added.push(...wanted.filter((f) => !have.has(f)));
      if (added.length) {
        let rule = mine.find((r) => r.repositoryFilters.length > 0) ?? mine[0];
        if (!rule) {
          const live = rules.filter((r) => r.signsAll || r.repositoryFilters.length > 0).length;
          if (live >= SIGNING_LIMITS.rules) {
            throw new RegistrySettingsLimitError(
              `the registry's signing configuration has ${live} rules already, and ECR allows ${SIGNING_LIMITS.rules}: a rule for ${arn} (${added.join(', ')}) does not fit. ` +
                'Nothing was changed; remove a rule the account no longer needs (aws ecr get-signing-configuration, then put-signing-configuration), or sign with a profile that has a rule already (signingProfile)',
            );
          }
          rule = { signingProfileArn: arn, repositoryFilters: [], signsAll: false };
          rules.push(rule);
        }
        const total = rule.repositoryFilters.length + added.length;
        if (total > SIGNING_LIMITS.filtersPerRule) {
          throw new RegistrySettingsLimitError(
            `the registry's signing rule for ${arn} would hold ${total} repository filters, and ECR allows ${SIGNING_LIMITS.filtersPerRule}: it has ${rule.repositoryFilters.length} and this adds ${added.length} (${added.join(', ')}). ` +
              'Nothing was changed; remove filters the account no longer needs, or use fewer, wider wildcards',
          );
        }
        rule.repositoryFilters.push(...added.map((filter) => ({ filter, filterType: SIGNING_FILTER_TYPE })));
      }
    }
  }

  const result = rules.filter((r) => r.signsAll || r.repositoryFilters.length > 0);
  // ECR takes 1 to 100 filters in a rule, or none at all (sign everything): a rule that signs everything is written without.
  const configuration: SigningConfiguration = {
    rules: result.map((r) =>
      r.signsAll ? { signingProfileArn: r.signingProfileArn } : { signingProfileArn: r.signingProfileArn, repositoryFilters: r.repositoryFilters },
    ),
  };
  const changed = added.length > 0 || removed.length > 0;
  const action = !changed ? 'none' : result.length === 0 ? 'delete' : 'put';
  return { configuration, action, added, removed, notes };
}

/** One line per change and note of a plan, for the log. */
export function formatRegistrySettingsPlan(what: 'scanning' | 'signing', plan: ScanningPlan | SigningPlan): string[] {
  const lines = [
    ...plan.added.map((f) => `${what}: add ${f}`),
    ...plan.removed.map((f) => `${what}: remove ${f}`),
    ...('scanType' in plan && plan.scanType.from !== plan.scanType.to ? [`${what}: scan type ${plan.scanType.from} -> ${plan.scanType.to}`] : []),
    ...plan.notes.map((n) => `${what}: ${n}`),
  ];
  const unchanged = 'changed' in plan ? !plan.changed : plan.action === 'none';
  return unchanged ? [...lines, `${what}: the account's configuration already holds this; nothing to write`] : lines;
}
