import {
  ECRClient,
  GetRegistryScanningConfigurationCommand,
  PutRegistryScanningConfigurationCommand,
  type RegistryScanningConfiguration,
} from '@aws-sdk/client-ecr';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { customResourceHandler, type CustomResourceRequest } from '../../src/handlers/private/custom-resource';
import { onRegistrySettingsEvent, type RegistrySettingsEvent } from '../../src/handlers/registry-settings';
import { MOTO_CLIENT_CONFIG, startMotoServer, type MotoServer } from '../support/moto-server';

// The scanning custom resource against moto's ECR (GetRegistryScanningConfiguration and
// PutRegistryScanningConfiguration), as CloudFormation drives it: the account's own
// configuration and another namespace's filters survive every request of ours.

jest.setTimeout(60_000);
let moto: MotoServer;
let ecr: ECRClient;
const lines: string[] = [];
const log = { log: (line: string) => void lines.push(line), error: (line: string) => void lines.push(`error ${line}`) };

beforeAll(async () => {
  moto = await startMotoServer();
  ecr = new ECRClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
});
afterAll(async () => {
  ecr?.destroy();
  await moto?.stop();
});
beforeEach(async () => {
  lines.length = 0;
  await fetch(`${moto.endpoint}/moto-api/reset`, { method: 'POST' });
});

const STACK = (name: string) => `arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/0b9f3f40-0000-11ef-8000-0a1b2c3d4e5f`;
const filters = (...names: string[]) => names.map((filter) => ({ filter, filterType: 'WILDCARD' as const }));

function event(
  requestType: RegistrySettingsEvent['RequestType'],
  properties: { ScanType: string; ScanOnPushFilters: string[] },
  more: Partial<RegistrySettingsEvent> = {},
): RegistrySettingsEvent {
  return {
    RequestType: requestType,
    ResourceType: 'Custom::EcrRegistryScanning',
    LogicalResourceId: 'WarehouseRegistrySettingsScanning0A1B2C3D',
    StackId: STACK('acme-warehouse'),
    ...(requestType !== 'Create' && { PhysicalResourceId: 'ecr-registry-scanning/acme-warehouse/WarehouseRegistrySettingsScanning0A1B2C3D' }),
    ResourceProperties: properties,
    ...more,
  };
}
const run = (e: RegistrySettingsEvent) => onRegistrySettingsEvent(e, { ecr, log });
const account = async (): Promise<RegistryScanningConfiguration | undefined> =>
  (await ecr.send(new GetRegistryScanningConfigurationCommand({}))).scanningConfiguration;
const acme = { ScanType: 'BASIC', ScanOnPushFilters: ['acme/*'] };

test('GIVEN an account on ENHANCED with its own continuous rule WHEN the namespace is created THEN it stays ENHANCED, its rule kept, and ours added on push', async () => {
  // GIVEN
  await ecr.send(
    new PutRegistryScanningConfigurationCommand({ scanType: 'ENHANCED', rules: [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: filters('prod/*') }] }),
  );
  // WHEN
  const result = await run(event('Create', acme));
  // THEN
  expect(result).toEqual({
    PhysicalResourceId: 'ecr-registry-scanning/acme-warehouse/WarehouseRegistrySettingsScanning0A1B2C3D',
    Data: { ScanType: 'ENHANCED' },
  });
  expect(await account()).toEqual({
    scanType: 'ENHANCED',
    rules: [
      { scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: filters('prod/*') },
      { scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('acme/*') },
    ],
  });
  expect(lines).toEqual(expect.arrayContaining(['scanning: add acme/*', expect.stringMatching(/kept, never downgraded to the BASIC this namespace asks/)]));
});

test("GIVEN a second namespace WHEN both are created, one updated and one deleted THEN each request touches only that namespace's filters", async () => {
  // GIVEN / WHEN: two namespaces in one account
  await run(event('Create', acme));
  const tools = { LogicalResourceId: 'ToolsScanning', StackId: STACK('tools-warehouse') };
  await run(event('Create', { ScanType: 'BASIC', ScanOnPushFilters: ['tools/*'] }, tools));
  expect((await account())?.rules).toEqual([{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('acme/*', 'tools/*') }]);

  // WHEN acme's stack is updated to narrower filters: only what its previous deploy added is replaced
  await run(event('Update', { ScanType: 'BASIC', ScanOnPushFilters: ['acme/builds/*', 'acme/images/*'] }, { OldResourceProperties: acme }));
  expect((await account())?.rules).toEqual([{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('tools/*', 'acme/builds/*', 'acme/images/*') }]);

  // WHEN tools' stack is deleted: acme's filters stay
  await run(
    event(
      'Delete',
      { ScanType: 'BASIC', ScanOnPushFilters: ['tools/*'] },
      { ...tools, PhysicalResourceId: 'ecr-registry-scanning/tools-warehouse/ToolsScanning' },
    ),
  );
  expect(await account()).toEqual({
    scanType: 'BASIC',
    rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('acme/builds/*', 'acme/images/*') }],
  });
});

test('GIVEN a create that CloudFormation retries THEN the second attempt finds the filter and writes nothing', async () => {
  const first = await run(event('Create', acme));
  lines.length = 0;
  const second = await run(event('Create', acme));
  expect(second).toEqual(first);
  expect((await account())?.rules).toEqual([{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('acme/*') }]);
  expect(lines).toEqual(["scanning: the account's configuration already holds this; nothing to write"]);
});

test('GIVEN the last namespace WHEN its stack is deleted (twice) THEN the account is back to its own configuration, with the scan type it had', async () => {
  await ecr.send(new PutRegistryScanningConfigurationCommand({ scanType: 'ENHANCED', rules: [] }));
  await run(event('Create', acme));
  await run(event('Delete', acme));
  await run(event('Delete', acme));
  expect(await account()).toEqual({ scanType: 'ENHANCED', rules: [] });
});

test('GIVEN a namespace that asks ENHANCED of a BASIC account THEN the account is upgraded, and the other namespace keeps its filter', async () => {
  await ecr.send(
    new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('tools/*') }] }),
  );
  const result = await run(event('Create', { ScanType: 'ENHANCED', ScanOnPushFilters: ['acme/*'] }));
  expect(result.Data).toEqual({ ScanType: 'ENHANCED' });
  expect(await account()).toEqual({ scanType: 'ENHANCED', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('tools/*', 'acme/*') }] });
});

test('GIVEN a delete after a create that failed (no id of ours) THEN the account’s filters are left alone', async () => {
  // The filter is the account's own: the failed create never added it.
  await ecr.send(
    new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('acme/*') }] }),
  );
  await run(event('Delete', acme, { PhysicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED' }));
  expect((await account())?.rules).toEqual([{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters('acme/*') }]);
});

test('GIVEN a create that breaks ECR’s limit THEN CloudFormation is told why, nothing is written, and its rollback delete leaves the account’s filters alone', async () => {
  // GIVEN a SCAN_ON_PUSH rule with 100 filters, acme/* among them (the account's own)
  const full = ['acme/*', ...Array.from({ length: 99 }, (_, i) => `team${i}/*`)];
  await ecr.send(
    new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters(...full) }] }),
  );
  const answers: { Status: string; Reason?: string; PhysicalResourceId: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      answers.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const handler = customResourceHandler((e: CustomResourceRequest) => run(e), { log });
    const cfn = (e: RegistrySettingsEvent): CustomResourceRequest => ({
      ...e,
      RequestId: `r${answers.length}`,
      ResponseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    });
    // WHEN CloudFormation creates the resource, and rolls it back
    await handler(cfn(event('Create', { ScanType: 'BASIC', ScanOnPushFilters: ['acme/*', 'acme2/*'] })));
    await handler(cfn(event('Delete', { ScanType: 'BASIC', ScanOnPushFilters: ['acme/*', 'acme2/*'] }, { PhysicalResourceId: answers[0].PhysicalResourceId })));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  // THEN
  expect(answers[0]).toMatchObject({
    Status: 'FAILED',
    Reason: expect.stringMatching(/^RegistrySettingsLimitError: .*would hold 101 repository filters, and ECR allows 100/),
  });
  expect(answers[1]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: answers[0].PhysicalResourceId });
  expect((await account())?.rules?.[0].repositoryFilters).toEqual(filters(...full));
});
