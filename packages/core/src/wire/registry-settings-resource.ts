/**
 * The wire contract of the CloudFormation custom resources that merge a namespace's
 * claim into the account-wide ECR settings (see `registry-settings-merge`): their
 * resource types, the properties the `RegistrySettings` construct writes and the
 * handler reads (one encode/decode pair each), and their physical ids.
 */
import {
  RegistrySettingsError,
  REGISTRY_SCAN_TYPES,
  REGISTRY_SCANNING_LIMITS,
  SIGNING_LIMITS,
  type RegistryScanType,
  type ScanOnPushClaim,
  type SigningClaim,
} from '../account/registry-settings-merge';

/** The custom resource types, as templates (and the deploy rehearsal) name them. */
export const REGISTRY_SETTINGS_RESOURCE_TYPES = {
  /** This namespace's scan-on-push filters, merged into the registry scanning configuration. */
  scanning: 'Custom::EcrRegistryScanning',
  /** This namespace's signing rule, merged into the registry signing configuration. */
  signing: 'Custom::EcrSigningConfiguration',
} as const;
export type RegistrySettingKind = keyof typeof REGISTRY_SETTINGS_RESOURCE_TYPES;

/** The properties of a `Custom::EcrRegistryScanning`. */
export interface ScanningResourceProperties {
  /** `BASIC` or `ENHANCED`: the least the account's scan type will be. */
  readonly ScanType: RegistryScanType;
  /** The ECR wildcard filters scanned on push, e.g. `devcontainers/*`. */
  readonly ScanOnPushFilters: string[];
}

/** The properties of a `Custom::EcrSigningConfiguration`. */
export interface SigningResourceProperties {
  readonly SigningProfileArn: string;
  /** The ECR wildcard filters of the repositories signed. */
  readonly RepositoryFilters: string[];
}

/** Thrown when a custom resource's properties are not what the construct writes; nothing was written. */
export class RegistrySettingsPropertiesError extends RegistrySettingsError {}

/** The properties of a `Custom::EcrRegistryScanning` for a claim (the construct's side). */
export function scanningResourceProperties(claim: ScanOnPushClaim): ScanningResourceProperties {
  return { ScanType: claim.scanType, ScanOnPushFilters: [...claim.filters] };
}

/** The properties of a `Custom::EcrSigningConfiguration` for a claim (the construct's side). */
export function signingResourceProperties(claim: SigningClaim): SigningResourceProperties {
  return { SigningProfileArn: claim.signingProfileArn, RepositoryFilters: [...claim.filters] };
}

const record = (properties: unknown, where: string): Record<string, unknown> => {
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    throw new RegistrySettingsPropertiesError(`${where}: the properties are not an object`);
  return properties as Record<string, unknown>;
};

const filtersOf = (value: unknown, name: string, where: string, max: number): string[] => {
  if (!Array.isArray(value) || value.length === 0 || value.some((f) => typeof f !== 'string'))
    throw new RegistrySettingsPropertiesError(`${where}: ${name} must be a list of 1 to ${max} repository filters, not ${JSON.stringify(value)}`);
  if (value.length > max)
    throw new RegistrySettingsPropertiesError(`${where}: ${name} has ${value.length} repository filters, and ECR allows ${max} in a rule`);
  return value as string[];
};

/** The claim of a `Custom::EcrRegistryScanning`'s properties, as CloudFormation passes them (the handler's side). */
export function scanOnPushClaimOf(properties: unknown, where: string): ScanOnPushClaim {
  const p = record(properties, where);
  const scanType = p.ScanType;
  if (typeof scanType !== 'string' || !REGISTRY_SCAN_TYPES.includes(scanType as RegistryScanType))
    throw new RegistrySettingsPropertiesError(`${where}: ScanType must be ${REGISTRY_SCAN_TYPES.join(' or ')}, not ${JSON.stringify(scanType)}`);
  return {
    scanType: scanType as RegistryScanType,
    filters: filtersOf(p.ScanOnPushFilters, 'ScanOnPushFilters', where, REGISTRY_SCANNING_LIMITS.filtersPerRule),
  };
}

/** The claim of a `Custom::EcrSigningConfiguration`'s properties, as CloudFormation passes them (the handler's side). */
export function signingClaimOf(properties: unknown, where: string): SigningClaim {
  const p = record(properties, where);
  if (typeof p.SigningProfileArn !== 'string' || p.SigningProfileArn === '')
    throw new RegistrySettingsPropertiesError(`${where}: SigningProfileArn must be a signing profile ARN, not ${JSON.stringify(p.SigningProfileArn)}`);
  return { signingProfileArn: p.SigningProfileArn, filters: filtersOf(p.RepositoryFilters, 'RepositoryFilters', where, SIGNING_LIMITS.filtersPerRule) };
}

const PHYSICAL_ID_PREFIX: Readonly<Record<RegistrySettingKind, string>> = { scanning: 'ecr-registry-scanning', signing: 'ecr-signing-configuration' };

/**
 * The physical id of a setting's custom resource: `<kind>/<stack name>/<logical id>`. It
 * is the same on every attempt of a create and never changes on update, so CloudFormation
 * never replaces the resource (a replacement's delete would take out the filters the new
 * one just merged in).
 */
export function registrySettingPhysicalId(kind: RegistrySettingKind, stackId: string, logicalResourceId: string): string {
  // arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>
  const stackName = /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? stackId;
  return `${PHYSICAL_ID_PREFIX[kind]}/${stackName}/${logicalResourceId}`;
}

/** Whether `id` is one {@link registrySettingPhysicalId} gives: a create that succeeded. */
export function isRegistrySettingPhysicalId(kind: RegistrySettingKind, id: string | undefined): boolean {
  return typeof id === 'string' && id.startsWith(`${PHYSICAL_ID_PREFIX[kind]}/`);
}

/** The setting a custom resource type carries, or undefined for another type. */
export function registrySettingKindOf(resourceType: string): RegistrySettingKind | undefined {
  return (Object.entries(REGISTRY_SETTINGS_RESOURCE_TYPES) as [RegistrySettingKind, string][]).find(([, type]) => type === resourceType)?.[0];
}
