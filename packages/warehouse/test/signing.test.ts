import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as signer from 'aws-cdk-lib/aws-signer';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RegistrySettings, Warehouse, signedRepositoryFilters } from '../src';
import { cfnLintErrors } from '@devcontainer-factory/testing';

// Opt-in ECR managed signing: a rule merged into the one account-wide signing configuration, in the one construct for such settings.

const ENV = { account: '123456789012', region: 'eu-west-1' };

test('GIVEN no signing THEN neither a signing rule nor a Signer profile is created', () => {
  const stack = new Stack();
  new Warehouse(stack, 'Warehouse', { namespace: 'acme', registryScanning: true });
  const template = Template.fromStack(stack);
  template.resourceCountIs('Custom::EcrSigningConfiguration', 0);
  template.resourceCountIs('AWS::Signer::SigningProfile', 0);
  expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toMatch(/SigningConfiguration/);
});

test('GIVEN signing on the warehouse THEN a custom resource merges a rule for the release and feature repositories (never staging) with a Notation profile into the account’s configuration', () => {
  const stack = new Stack(new App(), 'Acme', { env: ENV });
  new Warehouse(stack, 'Warehouse', { namespace: 'acme', signing: true });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Signer::SigningProfile', {
    PlatformId: 'Notation-OCI-SHA384-ECDSA',
    SignatureValidityPeriod: { Type: 'DAYS', Value: 135 },
  });
  template.resourceCountIs('AWS::ECR::SigningConfiguration', 0);
  const [merge] = Object.values(template.findResources('Custom::EcrSigningConfiguration'));
  expect(merge.Properties.RepositoryFilters).toEqual(['acme/images/*', 'acme/features/*', 'acme/features']);
  expect(merge.Properties.SigningProfileArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/SigningProfile/), 'Arn'] });
  expect(signedRepositoryFilters('acme').some((f) => f.includes('builds'))).toBe(false);
  Annotations.fromStack(stack).hasInfo(
    '*',
    Match.stringLikeRegexp(
      "account-wide: this stack merges a signing rule for its profile .* keeping the account's other rules; deleting the stack removes only these filters",
    ),
  );
});

test('GIVEN signing THEN the merge may read, write and delete the signing configuration, and nothing about scanning', () => {
  const stack = new Stack();
  new RegistrySettings(stack, 'Settings', { signing: { repositoryFilters: ['team/images/*'] } });
  const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
  expect(statements.filter((s) => s.Resource === '*')).toEqual([
    { Action: ['ecr:GetSigningConfiguration', 'ecr:PutSigningConfiguration', 'ecr:DeleteSigningConfiguration'], Effect: 'Allow', Resource: '*' },
  ]);
  expect(JSON.stringify(statements)).not.toMatch(/Scanning|inspector2/);
});

test("GIVEN a team's own Signer profile THEN it is used and none is created", () => {
  const stack = new Stack();
  const profile = signer.SigningProfile.fromSigningProfileAttributes(stack, 'Profile', { signingProfileName: 'team', signingProfileVersion: 'abc' });
  new RegistrySettings(stack, 'Settings', { signing: { repositoryFilters: ['team/images/*'], signingProfile: profile, signatureValidity: Duration.days(30) } });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::Signer::SigningProfile', 0);
  template.resourceCountIs('Custom::EcrSigningConfiguration', 1);
  const [merge] = Object.values(template.findResources('Custom::EcrSigningConfiguration'));
  expect(JSON.stringify(merge.Properties.SigningProfileArn)).toMatch(/\/signing-profiles\/team"/);
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
    expect(cfnLintErrors([join(outdir, assembly.getStackByName('Signed').templateFile)])).toEqual([]);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
