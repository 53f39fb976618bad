import {
  DeleteSigningConfigurationCommand,
  ECRClient,
  ECRServiceException,
  GetRegistryScanningConfigurationCommand,
  GetSigningConfigurationCommand,
  PutRegistryScanningConfigurationCommand,
  PutSigningConfigurationCommand,
  SigningConfigurationNotFoundException,
  type SigningConfiguration,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { RegistrySettingsLimitError, RegistrySettingsPropertiesError } from '@devcontainer-factory/core';
import {
  MAX_MERGE_ATTEMPTS,
  RegistrySettingsCallError,
  RegistrySettingsConflictError,
  onRegistrySettingsEvent,
  type RegistrySettingsEvent,
} from '../../src/handlers/registry-settings';
import { noWait, quietLog } from './job-fixtures';

// Signing (which moto does not emulate), and the failures: throttling, refusals, limits,
// another writer replacing the configuration under the merge.

const ecr = mockClient(ECRClient);
const clients = { ecr: new ECRClient({ region: 'eu-west-1' }), retry: { ...noWait, retries: 2 }, log: quietLog };
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/acme-warehouse/0b9f3f40-0000-11ef-8000-0a1b2c3d4e5f';
const PROFILE = 'arn:aws:signer:eu-west-1:111111111111:/signing-profiles/acmeprofile';
const OTHER = 'arn:aws:signer:eu-west-1:111111111111:/signing-profiles/otherprofile';
const SIGNING_ID = 'ecr-signing-configuration/acme-warehouse/Signing';
const ACME = { SigningProfileArn: PROFILE, RepositoryFilters: ['acme/images/*', 'acme/features/*', 'acme/features'] };
const wildcard = (...names: string[]) => names.map((filter) => ({ filter, filterType: 'WILDCARD_MATCH' as const }));

const signing = (
  requestType: RegistrySettingsEvent['RequestType'],
  properties: Record<string, unknown> = ACME,
  more: Partial<RegistrySettingsEvent> = {},
): RegistrySettingsEvent => ({
  RequestType: requestType,
  ResourceType: 'Custom::EcrSigningConfiguration',
  LogicalResourceId: 'Signing',
  StackId: STACK_ID,
  ...(requestType !== 'Create' && { PhysicalResourceId: SIGNING_ID }),
  ResourceProperties: properties,
  ...more,
});
const scanning = (requestType: RegistrySettingsEvent['RequestType'], more: Partial<RegistrySettingsEvent> = {}): RegistrySettingsEvent => ({
  RequestType: requestType,
  ResourceType: 'Custom::EcrRegistryScanning',
  LogicalResourceId: 'Scanning',
  StackId: STACK_ID,
  ...(requestType !== 'Create' && { PhysicalResourceId: 'ecr-registry-scanning/acme-warehouse/Scanning' }),
  ResourceProperties: { ScanType: 'BASIC', ScanOnPushFilters: ['acme/*'] },
  ...more,
});

/** An ECR signing configuration in memory, behind the mock. */
let stored: SigningConfiguration | undefined;
const notFound = () => new SigningConfigurationNotFoundException({ message: 'The signing configuration for the registry does not exist', $metadata: {} });
const serviceError = (name: string, message: string, httpStatusCode = 400) =>
  new ECRServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode } });

beforeEach(() => {
  ecr.reset();
  stored = undefined;
  ecr.on(GetSigningConfigurationCommand).callsFake(() => {
    if (!stored) throw notFound();
    return { registryId: '111111111111', signingConfiguration: structuredClone(stored) };
  });
  ecr.on(PutSigningConfigurationCommand).callsFake((input) => {
    stored = structuredClone(input.signingConfiguration);
    return { signingConfiguration: stored };
  });
  ecr.on(DeleteSigningConfigurationCommand).callsFake(() => {
    if (!stored) throw notFound();
    stored = undefined;
    return {};
  });
});

describe('Custom::EcrSigningConfiguration', () => {
  test('GIVEN an account without signing configuration WHEN created THEN one rule for our profile, and a stable physical id', async () => {
    const result = await onRegistrySettingsEvent(signing('Create'), clients);
    expect(result).toEqual({ PhysicalResourceId: SIGNING_ID });
    expect(stored).toEqual({ rules: [{ signingProfileArn: PROFILE, repositoryFilters: wildcard('acme/images/*', 'acme/features/*', 'acme/features') }] });
  });

  test("GIVEN another team's rule WHEN created, updated and deleted THEN its rule is never touched and the configuration is never deleted", async () => {
    stored = { rules: [{ signingProfileArn: OTHER, repositoryFilters: wildcard('tools/*') }] };
    await onRegistrySettingsEvent(signing('Create'), clients);
    expect(stored.rules).toHaveLength(2);
    await onRegistrySettingsEvent(
      signing('Update', { SigningProfileArn: PROFILE, RepositoryFilters: ['acme/images/*'] }, { OldResourceProperties: ACME }),
      clients,
    );
    expect(stored.rules).toEqual([
      { signingProfileArn: OTHER, repositoryFilters: wildcard('tools/*') },
      { signingProfileArn: PROFILE, repositoryFilters: wildcard('acme/images/*') },
    ]);
    await onRegistrySettingsEvent(signing('Delete', { SigningProfileArn: PROFILE, RepositoryFilters: ['acme/images/*'] }), clients);
    expect(stored).toEqual({ rules: [{ signingProfileArn: OTHER, repositoryFilters: wildcard('tools/*') }] });
    expect(ecr.commandCalls(DeleteSigningConfigurationCommand)).toHaveLength(0);
  });

  test('GIVEN only our rule WHEN deleted THEN the configuration is deleted; a retried delete finds nothing and succeeds', async () => {
    await onRegistrySettingsEvent(signing('Create'), clients);
    await onRegistrySettingsEvent(signing('Delete'), clients);
    expect(stored).toBeUndefined();
    expect(ecr.commandCalls(DeleteSigningConfigurationCommand)).toHaveLength(1);
    await expect(onRegistrySettingsEvent(signing('Delete'), clients)).resolves.toEqual({ PhysicalResourceId: SIGNING_ID });
    expect(ecr.commandCalls(DeleteSigningConfigurationCommand)).toHaveLength(1);
  });

  test('GIVEN a rule of our profile that signs everything THEN it is not narrowed to our filters', async () => {
    stored = { rules: [{ signingProfileArn: PROFILE }] };
    await onRegistrySettingsEvent(signing('Create'), clients);
    expect(ecr.commandCalls(PutSigningConfigurationCommand)).toHaveLength(0);
    expect(stored).toEqual({ rules: [{ signingProfileArn: PROFILE }] });
  });

  test('GIVEN 10 rules of other profiles THEN a limit error before any write', async () => {
    stored = { rules: Array.from({ length: 10 }, (_, i) => ({ signingProfileArn: `${OTHER}${i}`, repositoryFilters: wildcard(`t${i}/*`) })) };
    const attempt = onRegistrySettingsEvent(signing('Create'), clients);
    await expect(attempt).rejects.toThrow(RegistrySettingsLimitError);
    await expect(onRegistrySettingsEvent(signing('Create'), clients)).rejects.toThrow(/has 10 rules already, and ECR allows 10/);
    expect(ecr.commandCalls(PutSigningConfigurationCommand)).toHaveLength(0);
  });
});

describe('Custom::EcrRegistryScanning failures', () => {
  test('GIVEN ECR throttles twice THEN the merge succeeds on the third call', async () => {
    ecr
      .on(GetRegistryScanningConfigurationCommand)
      .rejectsOnce(serviceError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(serviceError('ThrottlingException', 'Rate exceeded'))
      .resolves({
        scanningConfiguration: {
          scanType: 'BASIC',
          rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'acme/*', filterType: 'WILDCARD' }] }],
        },
      });
    await expect(onRegistrySettingsEvent(scanning('Create'), clients)).resolves.toMatchObject({ Data: { ScanType: 'BASIC' } });
    expect(ecr.commandCalls(GetRegistryScanningConfigurationCommand)).toHaveLength(3);
  });

  test('GIVEN ECR keeps throttling THEN the retries are bounded and the error names the call', async () => {
    ecr.on(GetRegistryScanningConfigurationCommand).rejects(serviceError('ThrottlingException', 'Rate exceeded'));
    await expect(onRegistrySettingsEvent(scanning('Create'), clients)).rejects.toThrow(
      /ECR GetRegistryScanningConfiguration failed: ThrottlingException: Rate exceeded/,
    );
    expect(ecr.commandCalls(GetRegistryScanningConfigurationCommand)).toHaveLength(3);
  });

  test('GIVEN the role may not put the configuration THEN the error says so and keeps the cause', async () => {
    ecr.on(GetRegistryScanningConfigurationCommand).resolves({ scanningConfiguration: { scanType: 'BASIC', rules: [] } });
    ecr
      .on(PutRegistryScanningConfigurationCommand)
      .rejects(serviceError('AccessDeniedException', 'not authorized to perform: ecr:PutRegistryScanningConfiguration'));
    const error = await onRegistrySettingsEvent(scanning('Create'), clients).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistrySettingsCallError);
    expect((error as Error).message).toMatch(/PutRegistryScanningConfiguration failed: AccessDeniedException: .*permissions boundary or an SCP/);
    expect((error as Error).cause).toMatchObject({ name: 'AccessDeniedException' });
  });

  test('GIVEN another writer replaces the configuration right after each of our writes THEN the merge is tried a bounded number of times, then a conflict error', async () => {
    // Every read shows the other writer's configuration, without our filter.
    ecr.on(GetRegistryScanningConfigurationCommand).resolves({
      scanningConfiguration: {
        scanType: 'BASIC',
        rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'tools/*', filterType: 'WILDCARD' }] }],
      },
    });
    ecr.on(PutRegistryScanningConfigurationCommand).resolves({});
    await expect(onRegistrySettingsEvent(scanning('Create'), clients)).rejects.toThrow(RegistrySettingsConflictError);
    expect(ecr.commandCalls(PutRegistryScanningConfigurationCommand)).toHaveLength(MAX_MERGE_ATTEMPTS);
    // Each write kept the other writer's filter.
    expect(ecr.commandCalls(PutRegistryScanningConfigurationCommand)[0].args[0].input.rules?.[0].repositoryFilters?.map((f) => f.filter)).toEqual([
      'tools/*',
      'acme/*',
    ]);
  });

  test('GIVEN another writer replaced the configuration once THEN the second merge holds', async () => {
    const theirs = {
      scanningConfiguration: {
        scanType: 'BASIC' as const,
        rules: [{ scanFrequency: 'SCAN_ON_PUSH' as const, repositoryFilters: [{ filter: 'tools/*', filterType: 'WILDCARD' as const }] }],
      },
    };
    const both = {
      scanningConfiguration: {
        ...theirs.scanningConfiguration,
        rules: [
          {
            scanFrequency: 'SCAN_ON_PUSH' as const,
            repositoryFilters: [
              { filter: 'tools/*', filterType: 'WILDCARD' as const },
              { filter: 'acme/*', filterType: 'WILDCARD' as const },
            ],
          },
        ],
      },
    };
    ecr.on(GetRegistryScanningConfigurationCommand).resolvesOnce(theirs).resolvesOnce(theirs).resolves(both);
    ecr.on(PutRegistryScanningConfigurationCommand).resolves({});
    await expect(onRegistrySettingsEvent(scanning('Create'), clients)).resolves.toMatchObject({
      PhysicalResourceId: 'ecr-registry-scanning/acme-warehouse/Scanning',
    });
    expect(ecr.commandCalls(PutRegistryScanningConfigurationCommand)).toHaveLength(2);
  });

  test.each([
    [
      'an unknown resource type',
      scanning('Create', { ResourceType: 'Custom::Other' }),
      /Custom::Other Scanning: this handler serves Custom::EcrRegistryScanning and Custom::EcrSigningConfiguration only/,
    ],
    [
      'bad properties',
      scanning('Create', { ResourceProperties: { ScanType: 'BASIC', ScanOnPushFilters: [] } }),
      /Scanning \(properties\): ScanOnPushFilters must be a list of 1 to 100/,
    ],
    ['an update without the previous properties', scanning('Update'), /an update without OldResourceProperties/],
  ])('GIVEN %s THEN a properties error and no ECR call', async (_what, event, message) => {
    await expect(onRegistrySettingsEvent(event, clients)).rejects.toThrow(RegistrySettingsPropertiesError);
    await expect(onRegistrySettingsEvent(event, clients)).rejects.toThrow(message);
    expect(ecr.commandCalls(PutRegistryScanningConfigurationCommand)).toHaveLength(0);
  });
});
