/**
 * Reads, merges and writes the account-wide ECR settings one namespace shares with the
 * rest of the account: the registry scanning configuration and the signing
 * configuration. Each apply reads what the account has, plans the merge with core's
 * rules (which refuse before any write when ECR's limits would be broken), writes only
 * when the plan changes something, then reads the configuration back: when another
 * writer replaced it between the read and the write, it merges again, a bounded number
 * of times.
 */
import {
  DeleteSigningConfigurationCommand,
  GetRegistryScanningConfigurationCommand,
  GetSigningConfigurationCommand,
  PutRegistryScanningConfigurationCommand,
  PutSigningConfigurationCommand,
  type ECRClient,
  type ScanFrequency,
  type ScanType,
} from '@aws-sdk/client-ecr';
import {
  RegistrySettingsError,
  formatRegistrySettingsPlan,
  planScanOnPush,
  planSigning,
  withRetry,
  type ClaimChange,
  type RegistryScanningConfiguration,
  type RetryOptions,
  type ScanOnPushClaim,
  type ScanningPlan,
  type SigningClaim,
  type SigningConfiguration,
  type SigningPlan,
} from '@devcontainer-factory/core';

/** How many times an apply reads, merges and writes before it gives up on a configuration that another writer keeps replacing. */
export const MAX_MERGE_ATTEMPTS = 3;

/** Thrown when the configuration read back after a write does not hold the merge, {@link MAX_MERGE_ATTEMPTS} times. */
export class RegistrySettingsConflictError extends RegistrySettingsError {}

/** Thrown when an ECR call failed (after the retries of throttling); `cause` is the SDK's error. */
export class RegistrySettingsCallError extends RegistrySettingsError {}

export interface AccountSettingsOptions {
  readonly ecr: ECRClient;
  /**
   * How to retry throttled ECR calls.
   * @default - 5 retries with exponential backoff from 200 ms
   */
  readonly retry?: RetryOptions;
  /** Where each plan line goes. */
  readonly log: (line: string) => void;
}

/** What the caller may do about a refused call, by the SDK's error name. */
const HINTS: Readonly<Record<string, string>> = {
  AccessDeniedException:
    "the custom resource's role lacks the permission: it is granted by the RegistrySettings construct, so check for a permissions boundary or an SCP that denies it",
  ValidationException: 'ECR refused the merged configuration as invalid',
};

async function call<T>(name: string, options: AccountSettingsOptions, send: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(send, options.retry);
  } catch (error) {
    const e = error as { name?: string; message?: string };
    const hint = e.name && HINTS[e.name];
    throw new RegistrySettingsCallError(`ECR ${name} failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}${hint ? ` (${hint})` : ''}`, { cause: error });
  }
}

async function readScanning(options: AccountSettingsOptions): Promise<RegistryScanningConfiguration> {
  const answer = await call('GetRegistryScanningConfiguration', options, () => options.ecr.send(new GetRegistryScanningConfigurationCommand({})));
  const c = answer.scanningConfiguration;
  return {
    scanType: c?.scanType ?? 'BASIC',
    rules: (c?.rules ?? []).map((r) => ({
      scanFrequency: String(r.scanFrequency),
      repositoryFilters: (r.repositoryFilters ?? []).map((f) => ({ filter: String(f.filter), filterType: String(f.filterType) })),
    })),
  };
}

/** Merges `change` into the registry scanning configuration; returns the plan that holds. */
export async function applyScanOnPush(change: ClaimChange<ScanOnPushClaim>, options: AccountSettingsOptions): Promise<ScanningPlan> {
  let plan = planScanOnPush(await readScanning(options), change);
  for (let attempt = 1; ; attempt++) {
    for (const line of formatRegistrySettingsPlan('scanning', plan)) options.log(line);
    if (!plan.changed) return plan;
    const { scanType, rules } = plan.configuration;
    await call('PutRegistryScanningConfiguration', options, () =>
      options.ecr.send(
        new PutRegistryScanningConfigurationCommand({
          scanType: scanType as ScanType,
          rules: rules.map((r) => ({
            scanFrequency: r.scanFrequency as ScanFrequency,
            repositoryFilters: r.repositoryFilters.map((f) => ({ filter: f.filter, filterType: 'WILDCARD' })),
          })),
        }),
      ),
    );
    // Read back: another writer may have put its own configuration between the read and the write.
    const again = planScanOnPush(await readScanning(options), change);
    if (!again.changed) return plan;
    if (attempt >= MAX_MERGE_ATTEMPTS) {
      throw new RegistrySettingsConflictError(
        `the registry scanning configuration changed under this merge ${attempt} times (another stack or tool writes it at the same time): it still lacks ${[...again.added.map((f) => `+${f}`), ...again.removed.map((f) => `-${f}`)].join(', ') || `scan type ${again.scanType.to}`}. Deploy the account's stacks one at a time and retry`,
      );
    }
    options.log(`scanning: another writer replaced the configuration after this write (attempt ${attempt} of ${MAX_MERGE_ATTEMPTS}): merging again`);
    plan = again;
  }
}

/** The error name ECR gives an account without a signing configuration. */
const NO_SIGNING_CONFIGURATION = 'SigningConfigurationNotFoundException';
const isMissing = (error: unknown) =>
  error instanceof RegistrySettingsCallError && (error.cause as { name?: string } | undefined)?.name === NO_SIGNING_CONFIGURATION;

async function readSigning(options: AccountSettingsOptions): Promise<SigningConfiguration | undefined> {
  try {
    const answer = await call('GetSigningConfiguration', options, () => options.ecr.send(new GetSigningConfigurationCommand({})));
    return {
      rules: (answer.signingConfiguration?.rules ?? []).map((r) => ({
        signingProfileArn: String(r.signingProfileArn),
        ...(r.repositoryFilters && { repositoryFilters: r.repositoryFilters.map((f) => ({ filter: String(f.filter), filterType: String(f.filterType) })) }),
      })),
    };
  } catch (error) {
    // An account that has never had a signing configuration.
    if (isMissing(error)) return undefined;
    throw error;
  }
}

async function writeSigning(plan: SigningPlan, options: AccountSettingsOptions): Promise<void> {
  if (plan.action === 'delete') {
    try {
      await call('DeleteSigningConfiguration', options, () => options.ecr.send(new DeleteSigningConfigurationCommand({})));
    } catch (error) {
      // Gone already: what the delete wants.
      if (!isMissing(error)) throw error;
    }
    return;
  }
  await call('PutSigningConfiguration', options, () =>
    options.ecr.send(
      new PutSigningConfigurationCommand({
        signingConfiguration: {
          rules: plan.configuration.rules.map((r) => ({
            signingProfileArn: r.signingProfileArn,
            // A rule without filters signs every repository: ECR takes 1 to 100 filters, or none.
            ...(r.repositoryFilters?.length && {
              repositoryFilters: r.repositoryFilters.map((f) => ({ filter: f.filter, filterType: 'WILDCARD_MATCH' as const })),
            }),
          })),
        },
      }),
    ),
  );
}

/** Merges `change` into the registry signing configuration; returns the plan that holds. */
export async function applySigning(change: ClaimChange<SigningClaim>, options: AccountSettingsOptions): Promise<SigningPlan> {
  let plan = planSigning(await readSigning(options), change);
  for (let attempt = 1; ; attempt++) {
    for (const line of formatRegistrySettingsPlan('signing', plan)) options.log(line);
    if (plan.action === 'none') return plan;
    await writeSigning(plan, options);
    const again = planSigning(await readSigning(options), change);
    if (again.action === 'none') return plan;
    if (attempt >= MAX_MERGE_ATTEMPTS) {
      throw new RegistrySettingsConflictError(
        `the registry signing configuration changed under this merge ${attempt} times (another stack or tool writes it at the same time): it still lacks ${[...again.added.map((f) => `+${f}`), ...again.removed.map((f) => `-${f}`)].join(', ')}. Deploy the account's stacks one at a time and retry`,
      );
    }
    options.log(`signing: another writer replaced the configuration after this write (attempt ${attempt} of ${MAX_MERGE_ATTEMPTS}): merging again`);
    plan = again;
  }
}
