import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as signer from 'aws-cdk-lib/aws-signer';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RegistrySettings, Warehouse, signedRepositoryFilters } from '../src';

// Opt-in ECR managed signing: one account-wide signing configuration, in the one construct for such settings.

const ENV = { account: '123456789012', region: 'eu-west-1' };

test('GIVEN no signing THEN neither a signing configuration nor a Signer profile is created', () => {
  const stack = new Stack();
  new Warehouse(stack, 'Warehouse', { namespace: 'acme', registryScanning: true });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::ECR::SigningConfiguration', 0);
  template.resourceCountIs('AWS::Signer::SigningProfile', 0);
});

test('GIVEN signing on the warehouse THEN the release and feature repositories are signed with a Notation profile, staging is not', () => {
  const stack = new Stack(new App(), 'Acme', { env: ENV });
  new Warehouse(stack, 'Warehouse', { namespace: 'acme', signing: true });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Signer::SigningProfile', { PlatformId: 'Notation-OCI-SHA384-ECDSA', SignatureValidityPeriod: { Type: 'DAYS', Value: 135 } });
  const [config] = Object.values(template.findResources('AWS::ECR::SigningConfiguration'));
  const [rule] = config.Properties.Rules;
  expect(rule.RepositoryFilters).toEqual([
    { Filter: 'acme/images/*', FilterType: 'WILDCARD_MATCH' },
    { Filter: 'acme/features/*', FilterType: 'WILDCARD_MATCH' },
    { Filter: 'acme/features', FilterType: 'WILDCARD_MATCH' },
  ]);
  expect(rule.SigningProfileArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/SigningProfile/), 'Arn'] });
  expect(signedRepositoryFilters('acme').some((f) => f.includes('builds'))).toBe(false);
  Annotations.fromStack(stack).hasInfo('*', Match.stringLikeRegexp('account-wide: this stack owns the ECR signing configuration'));
});

test("GIVEN a team's own Signer profile THEN it is used and none is created", () => {
  const stack = new Stack();
  const profile = signer.SigningProfile.fromSigningProfileAttributes(stack, 'Profile', { signingProfileName: 'team', signingProfileVersion: 'abc' });
  new RegistrySettings(stack, 'Settings', { signing: { repositoryFilters: ['team/images/*'], signingProfile: profile, signatureValidity: Duration.days(30) } });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::Signer::SigningProfile', 0);
  template.resourceCountIs('AWS::ECR::SigningConfiguration', 1);
});

test.each([
  [[], /signing.repositoryFilters has 0 filters: name 1 to 100/],
  [['Team/Images'], /signing.repositoryFilters 'Team\/Images' are not ECR repository filters/],
])('GIVEN signing filters %j THEN a clear error', (repositoryFilters, expected) => {
  expect(() => new RegistrySettings(new Stack(), 'Settings', { signing: { repositoryFilters } })).toThrow(expected);
});

test('GIVEN signing with scanning THEN cdk-nag AwsSolutionsChecks pass and cfn-lint finds no error', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'signing-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Signed', { env: ENV });
    new Warehouse(stack, 'Warehouse', { namespace: 'acme', signing: true, registryScanning: true });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', join(outdir, assembly.getStackByName('Signed').templateFile)], { encoding: 'utf8' });
    expect(lint.stdout.split('\n').filter((l) => /:E\d+:/.test(l))).toEqual([]);
    expect(lint.status === 0 || lint.status === 4 || lint.status === 8).toBe(true);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
