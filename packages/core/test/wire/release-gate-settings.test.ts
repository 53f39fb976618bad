import { JobParametersError } from '../../src/wire/job-event';
import { RELEASE_GATE_ENVIRONMENT, formatReleaseGateSettings, parseReleaseGateSettings, type ReleaseGateSettings } from '../../src/wire/image-jobs';
import { SCAN_GATE_LIMITS } from '../../src/supply-chain/scan-gate';
import { VULNERABILITY_POLICY_LIMITS, vulnerabilityPolicyProblems } from '../../src/supply-chain/vulnerability-gate';

// The vulnerability policy on its way from the construct into the Release function's
// environment and back: one codec, one set of rules, checked on both sides.

const SETTINGS: ReleaseGateSettings = {
  policy: { blockAt: 'HIGH', allow: [{ id: 'CVE-2024-45490', reason: 'expat is not reachable from the tools', expires: '2027-01-31' }] },
  maxWaitSeconds: 600,
};

describe('the release gate settings', () => {
  test('what the construct writes, the function reads back the same', () => {
    expect(parseReleaseGateSettings(formatReleaseGateSettings(SETTINGS, 'python'))).toEqual(SETTINGS);
    expect(parseReleaseGateSettings(undefined)).toBeUndefined();
  });

  test.each<[string, ReleaseGateSettings, RegExp]>([
    ['a wait over the limit', { ...SETTINGS, maxWaitSeconds: SCAN_GATE_LIMITS.maxWaitLimitSeconds + 1 }, /the wait is 841 s: use 0 to 840 s$/],
    [
      'an allowance without a reason',
      { ...SETTINGS, policy: { blockAt: 'HIGH', allow: [{ ...SETTINGS.policy.allow[0], reason: ' ' }] } },
      /allow\[0\] \(CVE-2024-45490\) must say in 1 to 500 characters why/,
    ],
    [
      'an allowance listed twice',
      { ...SETTINGS, policy: { blockAt: 'HIGH', allow: [SETTINGS.policy.allow[0], SETTINGS.policy.allow[0]] } },
      /allow\[1\] lists 'CVE-2024-45490' twice/,
    ],
  ])('GIVEN %s THEN the construct refuses to write it', (_name, settings, message) => {
    expect(() => formatReleaseGateSettings(settings, 'python')).toThrow(JobParametersError);
    expect(() => formatReleaseGateSettings(settings, 'python')).toThrow(message);
  });

  test.each([
    ['a wait over the limit', JSON.stringify({ b: 'HIGH', w: 841, a: [] }), /has no valid wait \(0 to 840 s\)/],
    [
      'an expiry that is no day',
      JSON.stringify({ b: 'HIGH', w: 10, a: [['CVE-2024-45490', '2027-02-30', 'a reason']] }),
      /allow\[0\] \(CVE-2024-45490\) expires "2027-02-30"/,
    ],
    ['an unknown severity', JSON.stringify({ b: 'SEVERE', w: 10, a: [] }), /has no valid blockAt/],
  ])('GIVEN an environment with %s THEN the function refuses it and says to redeploy', (_name, text, message) => {
    expect(() => parseReleaseGateSettings(text)).toThrow(message);
    expect(() => parseReleaseGateSettings(text)).toThrow(new RegExp(`^${RELEASE_GATE_ENVIRONMENT} .*: redeploy the image pipeline$`));
  });

  test('the policy rules, once: each problem names its field', () => {
    const many = Array.from({ length: VULNERABILITY_POLICY_LIMITS.maxAllowances + 1 }, (_, i) => ({
      id: `CVE-2024-${10000 + i}`,
      reason: 'r',
      expires: '2027-01-31',
    }));
    expect(vulnerabilityPolicyProblems({ blockAt: 'none', allow: [] })).toEqual([]);
    expect(vulnerabilityPolicyProblems({ allow: many })).toEqual([
      'allow lists 201 findings, over the limit of 200: fix the image rather than allowing so many',
    ]);
    expect(vulnerabilityPolicyProblems({ allow: [{ id: 'x', reason: 'r', expires: '2027-01-31' }] })).toEqual([
      'allow[0] has id "x": write the vulnerability id as the scanner reports it, e.g. CVE-2024-12345',
    ]);
  });
});
