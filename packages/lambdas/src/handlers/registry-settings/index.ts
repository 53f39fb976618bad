/**
 * The CloudFormation custom resource handler (its own service token: it answers
 * CloudFormation itself, see `custom-resource`) of the `RegistrySettings` construct's
 * account-wide settings: `Custom::EcrRegistryScanning`
 * merges the namespace's scan-on-push filters into the registry scanning configuration,
 * `Custom::EcrSigningConfiguration` its signing rule into the signing configuration.
 *
 * - Create adds the resource's filters; Update adds the new ones and removes only what
 *   the previous properties (`OldResourceProperties`) added and the new ones drop;
 *   Delete removes only the resource's own. Every other rule and filter of the account,
 *   and its scan type, stay (the scan type is never downgraded).
 * - Idempotent: a retried create or delete finds its work done and writes nothing.
 * - The physical id is `<kind>/<stack>/<logical id>` on every attempt and never changes,
 *   so CloudFormation never replaces the resource; a delete of any other id (a create
 *   that failed) writes nothing.
 * - A failure is answered as FAILED, with what went wrong and what to do, as is a request
 *   still running shortly before the function's time-out.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import {
  REGISTRY_SETTINGS_RESOURCE_TYPES,
  RegistrySettingsPropertiesError,
  isRegistrySettingPhysicalId,
  registrySettingKindOf,
  registrySettingPhysicalId,
  scanOnPushClaimOf,
  signingClaimOf,
  type RetryOptions,
} from '@devcontainer-factory/core';
import { jsonLog, type JobLog } from '../../codepipeline/job-runner';
import { customResourceHandler, type CustomResourceRequest, type CustomResourceResult } from '../private/custom-resource';
import { applyScanOnPush, applySigning } from './ecr-account-settings';

export { MAX_MERGE_ATTEMPTS, RegistrySettingsCallError, RegistrySettingsConflictError } from './ecr-account-settings';

/** What CloudFormation sends the custom resource, as far as the work reads it. */
export type RegistrySettingsEvent = Omit<CustomResourceRequest, 'ResponseURL' | 'RequestId'>;

/** What is reported to CloudFormation; `Data.ScanType` (scanning only) is the account's scan type after the merge. */
export type RegistrySettingsResult = CustomResourceResult;

/** What the handler talks to; built once per Lambda container, replaced in tests. */
export interface RegistrySettingsClients {
  readonly ecr: ECRClient;
  /**
   * How to retry throttled ECR calls.
   * @default - 5 retries with exponential backoff from 200 ms
   */
  readonly retry?: RetryOptions;
  /**
   * Where to log.
   * @default - one JSON object per line ({@link jsonLog}) with the resource's logical id and request type
   */
  readonly log?: JobLog;
}

/** Applies one CloudFormation request to the setting its resource type names. */
export async function onRegistrySettingsEvent(event: RegistrySettingsEvent, clients: RegistrySettingsClients): Promise<RegistrySettingsResult> {
  const kind = registrySettingKindOf(event.ResourceType);
  const where = `${event.ResourceType} ${event.LogicalResourceId}`;
  if (!kind) {
    throw new RegistrySettingsPropertiesError(`${where}: this handler serves ${Object.values(REGISTRY_SETTINGS_RESOURCE_TYPES).join(' and ')} only`);
  }
  const log = clients.log ?? jsonLog({ resource: event.LogicalResourceId, requestType: event.RequestType });
  const physicalId =
    event.RequestType === 'Create' ? registrySettingPhysicalId(kind, event.StackId, event.LogicalResourceId) : (event.PhysicalResourceId ?? '');
  if (event.RequestType === 'Delete' && !isRegistrySettingPhysicalId(kind, physicalId)) {
    // The rollback of a create that failed: it answered with another id, and there is nothing of it to take out.
    log.log(`${where}: delete of ${JSON.stringify(physicalId)}, which no create of this handler returned: nothing to remove`);
    return { PhysicalResourceId: physicalId };
  }
  const options = { ecr: clients.ecr, retry: clients.retry, log: (line: string) => log.log(line) };
  const current = event.RequestType === 'Delete' ? undefined : event.ResourceProperties;
  const previous = event.RequestType === 'Create' ? undefined : event.RequestType === 'Update' ? event.OldResourceProperties : event.ResourceProperties;
  if (event.RequestType === 'Update' && previous === undefined)
    throw new RegistrySettingsPropertiesError(`${where}: an update without OldResourceProperties: cannot tell which filters the previous deploy added`);
  try {
    if (kind === 'scanning') {
      const plan = await applyScanOnPush(
        {
          ...(current && { add: scanOnPushClaimOf(current, `${where} (properties)`) }),
          ...(previous && { remove: scanOnPushClaimOf(previous, `${where} (previous properties)`) }),
        },
        options,
      );
      return { PhysicalResourceId: physicalId, Data: { ScanType: plan.scanType.to } };
    }
    await applySigning(
      {
        ...(current && { add: signingClaimOf(current, `${where} (properties)`) }),
        ...(previous && { remove: signingClaimOf(previous, `${where} (previous properties)`) }),
      },
      options,
    );
    return { PhysicalResourceId: physicalId };
  } catch (error) {
    log.error(`${where}: ${event.RequestType} failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

const clients: RegistrySettingsClients = { ecr: new ECRClient({}) };

export const handler = customResourceHandler((event: CustomResourceRequest) => onRegistrySettingsEvent(event, clients), { log: jsonLog() });
