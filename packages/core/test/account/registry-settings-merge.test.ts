import {
  RegistrySettingsError,
  RegistrySettingsLimitError,
  RegistrySettingsPropertiesError,
  formatRegistrySettingsPlan,
  isRegistryRepositoryFilter,
  isRegistrySettingPhysicalId,
  planScanOnPush,
  planSigning,
  registrySettingKindOf,
  registrySettingPhysicalId,
  scanOnPushClaimOf,
  scanningResourceProperties,
  signingClaimOf,
  signingResourceProperties,
  type RegistryScanningConfiguration,
  type SigningConfiguration,
} from '../../src';

// Account-wide ECR settings are merged, never replaced: a namespace adds only its own
// filters and, when it goes, takes away only those.

const onPush = (...filters: string[]) => ({ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: filters.map((filter) => ({ filter, filterType: 'WILDCARD' })) });
const continuous = (...filters: string[]) => ({
  scanFrequency: 'CONTINUOUS_SCAN',
  repositoryFilters: filters.map((filter) => ({ filter, filterType: 'WILDCARD' })),
});
const basic = (...rules: RegistryScanningConfiguration['rules']): RegistryScanningConfiguration => ({ scanType: 'BASIC', rules });
const enhanced = (...rules: RegistryScanningConfiguration['rules']): RegistryScanningConfiguration => ({ scanType: 'ENHANCED', rules });
const acme = { scanType: 'BASIC' as const, filters: ['acme/*'] };

describe('planScanOnPush', () => {
  test('GIVEN an account with no scanning configuration WHEN a namespace claims acme/* THEN one SCAN_ON_PUSH rule with it, BASIC', () => {
    const plan = planScanOnPush(undefined, { add: acme });
    expect(plan.configuration).toEqual(basic(onPush('acme/*')));
    expect(plan).toMatchObject({ changed: true, added: ['acme/*'], removed: [], scanType: { from: 'BASIC', to: 'BASIC' } });
  });

  test('GIVEN an account on ENHANCED with a continuous rule WHEN a namespace asks BASIC THEN the account stays ENHANCED, its rule untouched, and a note says so', () => {
    const plan = planScanOnPush(enhanced(continuous('prod/*')), { add: acme });
    expect(plan.configuration).toEqual(enhanced(continuous('prod/*'), onPush('acme/*')));
    expect(plan.scanType).toEqual({ from: 'ENHANCED', to: 'ENHANCED' });
    expect(plan.notes.join('\n')).toMatch(/ENHANCED \(Amazon Inspector\): kept, never downgraded to the BASIC this namespace asks/);
  });

  test('GIVEN a BASIC account with another namespace WHEN a namespace asks ENHANCED THEN the account is upgraded, both filters kept, and a note says so', () => {
    const plan = planScanOnPush(basic(onPush('tools/*')), { add: { scanType: 'ENHANCED', filters: ['acme/*'] } });
    expect(plan.configuration).toEqual(enhanced(onPush('tools/*', 'acme/*')));
    expect(plan.scanType).toEqual({ from: 'BASIC', to: 'ENHANCED' });
    expect(plan.notes.join('\n')).toMatch(/BASIC -> ENHANCED.*removing this namespace does not downgrade it/);
  });

  test("GIVEN a second namespace WHEN it claims its filter THEN the first namespace's filter is kept", () => {
    const first = planScanOnPush(undefined, { add: acme }).configuration;
    const second = planScanOnPush(first, { add: { scanType: 'BASIC', filters: ['tools/*'] } });
    expect(second.configuration).toEqual(basic(onPush('acme/*', 'tools/*')));
    expect(second.added).toEqual(['tools/*']);
  });

  test('GIVEN the claim is there already (a retried create) THEN nothing changes and nothing is to be written', () => {
    const account = basic(onPush('tools/*', 'acme/*'));
    const plan = planScanOnPush(account, { add: acme });
    expect(plan).toMatchObject({ changed: false, added: [], removed: [] });
    expect(plan.configuration).toEqual(account);
    expect(formatRegistrySettingsPlan('scanning', plan)).toEqual(["scanning: the account's configuration already holds this; nothing to write"]);
  });

  test('GIVEN two namespaces WHEN one is deleted THEN only its filter goes, and the scan type stays (even ENHANCED)', () => {
    const plan = planScanOnPush(enhanced(continuous('prod/*'), onPush('acme/*', 'tools/*')), { remove: acme });
    expect(plan.configuration).toEqual(enhanced(continuous('prod/*'), onPush('tools/*')));
    expect(plan).toMatchObject({ changed: true, added: [], removed: ['acme/*'], scanType: { from: 'ENHANCED', to: 'ENHANCED' } });
  });

  test('GIVEN the last namespace WHEN it is deleted THEN its SCAN_ON_PUSH rule goes, the other rules stay', () => {
    expect(planScanOnPush(enhanced(continuous('prod/*'), onPush('acme/*')), { remove: acme }).configuration).toEqual(enhanced(continuous('prod/*')));
    expect(planScanOnPush(basic(onPush('acme/*')), { remove: acme }).configuration).toEqual(basic());
  });

  test('GIVEN a delete that ran before (retried) THEN nothing changes', () => {
    expect(planScanOnPush(basic(onPush('tools/*')), { remove: acme })).toMatchObject({ changed: false, removed: [] });
    expect(planScanOnPush(undefined, { remove: acme })).toMatchObject({ changed: false, configuration: basic() });
  });

  test('GIVEN an update from acme/* to acme/images/* THEN only our previous filter is replaced; the other stacks’ filters survive', () => {
    const account = basic(onPush('tools/*', 'acme/*', 'other/*'));
    const plan = planScanOnPush(account, { add: { scanType: 'BASIC', filters: ['acme/images/*', 'acme/builds/*'] }, remove: acme });
    expect(plan.configuration).toEqual(basic(onPush('tools/*', 'other/*', 'acme/images/*', 'acme/builds/*')));
    expect(plan).toMatchObject({ added: ['acme/images/*', 'acme/builds/*'], removed: ['acme/*'] });
  });

  test('GIVEN an update that keeps a filter THEN it is neither removed nor added again', () => {
    const plan = planScanOnPush(basic(onPush('acme/*', 'acme/x')), {
      add: { scanType: 'BASIC', filters: ['acme/*'] },
      remove: { scanType: 'BASIC', filters: ['acme/*', 'acme/x'] },
    });
    expect(plan.configuration).toEqual(basic(onPush('acme/*')));
    expect(plan).toMatchObject({ added: [], removed: ['acme/x'] });
  });

  test('GIVEN an update from ENHANCED to BASIC THEN the account is not downgraded', () => {
    const plan = planScanOnPush(enhanced(onPush('acme/*')), { add: acme, remove: { scanType: 'ENHANCED', filters: ['acme/*'] } });
    expect(plan).toMatchObject({ changed: false, scanType: { from: 'ENHANCED', to: 'ENHANCED' } });
  });

  test('GIVEN our filter in the account’s CONTINUOUS_SCAN rule THEN it is not added to SCAN_ON_PUSH, and a note says why', () => {
    const plan = planScanOnPush(enhanced(continuous('acme/*')), { add: acme });
    expect(plan).toMatchObject({ changed: false, added: [] });
    expect(plan.notes.join('\n')).toMatch(/acme\/\*: already in the account's CONTINUOUS_SCAN rule/);
    // …and deleting the namespace leaves the account's continuous rule alone.
    expect(planScanOnPush(enhanced(continuous('acme/*')), { remove: acme })).toMatchObject({ changed: false, configuration: enhanced(continuous('acme/*')) });
  });

  test('GIVEN a SCAN_ON_PUSH rule with 99 filters WHEN a namespace adds 2 THEN a limit error that names the counts and what to do', () => {
    const account = basic(onPush(...Array.from({ length: 99 }, (_, i) => `team${i}/*`)));
    expect(planScanOnPush(account, { add: { scanType: 'BASIC', filters: ['acme/*'] } }).configuration.rules[0].repositoryFilters).toHaveLength(100);
    const attempt = () => planScanOnPush(account, { add: { scanType: 'BASIC', filters: ['acme/*', 'acme2/*'] } });
    expect(attempt).toThrow(RegistrySettingsLimitError);
    expect(attempt).toThrow(
      /SCAN_ON_PUSH scanning rule would hold 101 repository filters, and ECR allows 100: it has 99 .* this adds 2 \(acme\/\*, acme2\/\*\)\. Nothing was changed/,
    );
  });

  test('GIVEN two rules, neither SCAN_ON_PUSH THEN a limit error: ECR allows 2 rules', () => {
    const account = enhanced(continuous('prod/*'), { scanFrequency: 'MANUAL', repositoryFilters: [{ filter: 'x', filterType: 'WILDCARD' }] });
    expect(() => planScanOnPush(account, { add: acme })).toThrow(
      /has 2 rules already \(CONTINUOUS_SCAN, MANUAL\), none of them SCAN_ON_PUSH, and ECR allows 2/,
    );
  });

  test.each([
    [{ scanType: 'BASIC' as const, filters: ['Acme/*'] }, /"Acme\/\*" is not an ECR repository filter/],
    [{ scanType: 'BASIC' as const, filters: ['acme/'] }, /"acme\/" is not an ECR repository filter/],
    [{ scanType: 'FULL' as never, filters: ['acme/*'] }, /scan type "FULL" is unknown: use BASIC or ENHANCED/],
  ])('GIVEN the claim %j THEN a clear error', (claim, message) => {
    expect(() => planScanOnPush(undefined, { add: claim })).toThrow(RegistrySettingsError);
    expect(() => planScanOnPush(undefined, { add: claim })).toThrow(message);
  });

  test('the filter check is ECR’s pattern and length', () => {
    expect(['devcontainers/*', 'acme/features', '*', 'a.b_c-d/e*'].every(isRegistryRepositoryFilter)).toBe(true);
    expect(['', 'acme//x', '-acme', 'acme/', 'ACME', 'a'.repeat(256)].some(isRegistryRepositoryFilter)).toBe(false);
    expect(isRegistryRepositoryFilter('a'.repeat(255))).toBe(true);
  });
});

const PROFILE = 'arn:aws:signer:eu-west-1:111111111111:/signing-profiles/acme_profile';
const OTHER = 'arn:aws:signer:eu-west-1:111111111111:/signing-profiles/other_profile';
const rule = (signingProfileArn: string, ...filters: string[]) => ({
  signingProfileArn,
  repositoryFilters: filters.map((filter) => ({ filter, filterType: 'WILDCARD_MATCH' })),
});
const acmeSigning = { signingProfileArn: PROFILE, filters: ['acme/images/*', 'acme/features/*'] };

describe('planSigning', () => {
  test('GIVEN no signing configuration THEN one rule for the profile with the filters', () => {
    expect(planSigning(undefined, { add: acmeSigning })).toEqual({
      configuration: { rules: [rule(PROFILE, 'acme/images/*', 'acme/features/*')] },
      action: 'put',
      added: ['acme/images/*', 'acme/features/*'],
      removed: [],
      notes: [],
    });
  });

  test("GIVEN another namespace's rule THEN it is kept and ours is added beside it", () => {
    const plan = planSigning({ rules: [rule(OTHER, 'tools/*')] }, { add: acmeSigning });
    expect(plan.configuration.rules).toEqual([rule(OTHER, 'tools/*'), rule(PROFILE, 'acme/images/*', 'acme/features/*')]);
  });

  test('GIVEN a rule of the same profile THEN our filters join it', () => {
    expect(planSigning({ rules: [rule(PROFILE, 'tools/*')] }, { add: acmeSigning }).configuration.rules).toEqual([
      rule(PROFILE, 'tools/*', 'acme/images/*', 'acme/features/*'),
    ]);
  });

  test('GIVEN a rule of the same profile that signs everything (no filters) THEN it is not narrowed', () => {
    const plan = planSigning({ rules: [{ signingProfileArn: PROFILE }] }, { add: acmeSigning });
    expect(plan).toMatchObject({ action: 'none', configuration: { rules: [{ signingProfileArn: PROFILE }] } });
    expect(plan.notes.join('\n')).toMatch(/signs every repository already/);
  });

  test('GIVEN a delete THEN only our filters go; a rule left without filters is dropped, never left to sign everything', () => {
    const account: SigningConfiguration = { rules: [rule(OTHER, 'tools/*'), rule(PROFILE, 'acme/images/*', 'acme/features/*')] };
    expect(planSigning(account, { remove: acmeSigning })).toMatchObject({
      action: 'put',
      configuration: { rules: [rule(OTHER, 'tools/*')] },
      removed: ['acme/images/*', 'acme/features/*'],
    });
    expect(planSigning({ rules: [rule(PROFILE, 'tools/*', 'acme/images/*')] }, { remove: acmeSigning }).configuration.rules).toEqual([
      rule(PROFILE, 'tools/*'),
    ]);
  });

  test('GIVEN the last rule is ours WHEN deleted THEN the plan deletes the configuration; a retried delete does nothing', () => {
    expect(planSigning({ rules: [rule(PROFILE, 'acme/images/*', 'acme/features/*')] }, { remove: acmeSigning })).toMatchObject({
      action: 'delete',
      configuration: { rules: [] },
    });
    expect(planSigning(undefined, { remove: acmeSigning })).toMatchObject({ action: 'none' });
  });

  test('GIVEN an update to a new profile THEN our filters move from the old rule to the new one; other filters stay', () => {
    const account: SigningConfiguration = { rules: [rule(OTHER, 'tools/*', 'acme/images/*', 'acme/features/*')] };
    const plan = planSigning(account, { add: acmeSigning, remove: { signingProfileArn: OTHER, filters: ['acme/images/*', 'acme/features/*'] } });
    expect(plan.configuration.rules).toEqual([rule(OTHER, 'tools/*'), rule(PROFILE, 'acme/images/*', 'acme/features/*')]);
  });

  test('GIVEN 10 rules THEN a new profile is a limit error; 100 filters in a rule too', () => {
    const ten: SigningConfiguration = {
      rules: Array.from({ length: 10 }, (_, i) => rule(`arn:aws:signer:eu-west-1:111111111111:/signing-profiles/p${i}x`, `t${i}/*`)),
    };
    expect(() => planSigning(ten, { add: acmeSigning })).toThrow(/signing configuration has 10 rules already, and ECR allows 10/);
    const full: SigningConfiguration = { rules: [rule(PROFILE, ...Array.from({ length: 99 }, (_, i) => `t${i}/*`))] };
    expect(() => planSigning(full, { add: acmeSigning })).toThrow(RegistrySettingsLimitError);
    expect(() => planSigning(full, { add: acmeSigning })).toThrow(/would hold 101 repository filters, and ECR allows 100/);
  });

  test('GIVEN a claim without filters or with a bad profile THEN a clear error', () => {
    expect(() => planSigning(undefined, { add: { signingProfileArn: PROFILE, filters: [] } })).toThrow(/would sign every repository of the account/);
    expect(() => planSigning(undefined, { add: { signingProfileArn: 'profile', filters: ['acme/*'] } })).toThrow(
      /"profile" is not an AWS Signer signing profile ARN/,
    );
  });
});

describe('the custom resource contract', () => {
  test('what the construct writes is what the handler reads', () => {
    const claim = { scanType: 'ENHANCED' as const, filters: ['acme/*'] };
    expect(scanOnPushClaimOf(JSON.parse(JSON.stringify(scanningResourceProperties(claim))), 'test')).toEqual(claim);
    expect(signingClaimOf(JSON.parse(JSON.stringify(signingResourceProperties(acmeSigning))), 'test')).toEqual(acmeSigning);
  });

  test.each([
    ['an unknown scan type', { ScanType: 'FULL', ScanOnPushFilters: ['a/*'] }, /ScanType must be BASIC or ENHANCED, not "FULL"/],
    ['filters that are not a list', { ScanType: 'BASIC', ScanOnPushFilters: 'a/*' }, /ScanOnPushFilters must be a list of 1 to 100 repository filters/],
    ['101 filters', { ScanType: 'BASIC', ScanOnPushFilters: Array.from({ length: 101 }, (_, i) => `t${i}`) }, /has 101 repository filters, and ECR allows 100/],
  ])('GIVEN scanning properties with %s THEN a properties error', (_what, properties, message) => {
    expect(() => scanOnPushClaimOf(properties, 'Custom::EcrRegistryScanning Scanning')).toThrow(RegistrySettingsPropertiesError);
    expect(() => scanOnPushClaimOf(properties, 'Custom::EcrRegistryScanning Scanning')).toThrow(message);
  });

  test('the physical id is stable per stack and logical id, and says which setting it is', () => {
    const stackId = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/acme-warehouse/8d1c2f30-0000-11ef-0000-0a1b2c3d4e5f';
    expect(registrySettingPhysicalId('scanning', stackId, 'Scanning1A2B')).toBe('ecr-registry-scanning/acme-warehouse/Scanning1A2B');
    expect(isRegistrySettingPhysicalId('scanning', 'ecr-registry-scanning/acme-warehouse/Scanning1A2B')).toBe(true);
    expect(isRegistrySettingPhysicalId('scanning', 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED')).toBe(false);
    expect(isRegistrySettingPhysicalId('signing', 'ecr-registry-scanning/acme-warehouse/Scanning1A2B')).toBe(false);
    expect(registrySettingKindOf('Custom::EcrSigningConfiguration')).toBe('signing');
    expect(registrySettingKindOf('Custom::EcrAccountSetting')).toBeUndefined();
  });
});
