import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { readCatalog } from '../src/catalog';
import { addFactory, factoryApp } from '../src/factory';

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function registryResources(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(tmpdir(), 'factory-registry-'));
  outdirs.push(outdir);
  const app = factoryApp({ outdir });
  const { warehouse } = addFactory(app, readCatalog((key) => ({ images: '', features: '', ...context })[key]), { env: { account: '123456789012', region: 'eu-west-1' } });
  return Template.fromStack(warehouse).findResources('AWS::ECR::RegistryScanningConfiguration');
}

describe('account-wide registry settings in the factory app', () => {
  test('the app owns scan on push for its namespace by default', () => {
    const [config] = Object.values(registryResources({ namespace: 'acme' }));
    expect(config.Properties.Rules[0].RepositoryFilters).toEqual([{ Filter: 'acme/*', FilterType: 'WILDCARD' }]);
  });

  test('-c registryScanning=false leaves the account’s scanning configuration alone', () => {
    expect(registryResources({ registryScanning: 'false' })).toEqual({});
  });

  test('-c registryScanning with another value is a catalogue error', () => {
    expect(() => readCatalog((key) => ({ registryScanning: 'no' })[key])).toThrow(/-c registryScanning must be true or false, got "no"/);
  });
});
