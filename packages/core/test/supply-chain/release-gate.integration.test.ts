import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_VULNERABILITY_POLICY,
  ScanFindingsShapeError,
  ScanUnavailableError,
  VulnerabilityGateError,
  assembleIndex,
  releaseImage,
  runScanGate,
  type ScanFindingsResponse,
  type ScanFindingsSource,
  type VulnerabilityPolicy,
} from '../../src';
import { tagSnapshot, useLocalRegistry } from '@devcontainer-factory/testing';
import { pushTestImage } from '@devcontainer-factory/testing';

// The vulnerability gate inside Release, on a real CNCF distribution registry: the build
// is staged in <ns>/builds/<id>, its per-arch images have recorded ECR findings, and
// Release either promotes and tags it or moves nothing.

jest.setTimeout(60_000);
const RULES = { latest: true, semver: true, date: false };
const NOW = new Date('2026-12-02T09:00:00Z');
const local = useLocalRegistry();
const recorded = (name: string): ScanFindingsResponse => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as ScanFindingsResponse;
let round = 0;

/** A source that answers each image digest with recorded findings, like ECR after scan on push. */
function recordedSource(byDigest: Map<string, ScanFindingsResponse>): ScanFindingsSource & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'recorded ECR findings',
    calls,
    findings: async (repository, digest) => {
      calls.push(`${repository}@${digest}`);
      return byDigest.get(digest);
    },
  };
}

async function stagedBuild() {
  round++;
  const staging = `devcontainers/builds/gate${round}`;
  const repository = `devcontainers/images/gate${round}`;
  const buildId = `b${round}`;
  const [amd64, arm64] = await Promise.all([
    pushTestImage(local.host, staging, `${buildId}-amd64`, 'amd64'),
    pushTestImage(local.host, staging, `${buildId}-arm64`, 'arm64'),
  ]);
  await assembleIndex(local.registry, staging, buildId, ['linux/amd64', 'linux/arm64']);
  const findings = new Map([
    [amd64.digest, recorded('ecr-basic-findings.json')], // one CRITICAL: CVE-2024-45490 in expat
    [arm64.digest, { imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [] } }],
  ]);
  return { staging, repository, buildId, findings };
}

function release(b: Awaited<ReturnType<typeof stagedBuild>>, policy: VulnerabilityPolicy, source: ScanFindingsSource) {
  return releaseImage(local.registry, b.repository, {
    buildId: b.buildId,
    version: '1.2.3',
    rules: RULES,
    now: NOW,
    staging: b.staging,
    gate: (plan, repository) => runScanGate(source, repository, 'gate', plan, { policy, now: () => NOW, sleep: async () => undefined }),
  });
}

const allowing = (expires: string): VulnerabilityPolicy => ({
  ...DEFAULT_VULNERABILITY_POLICY,
  allow: [{ id: 'CVE-2024-45490', reason: 'expat never parses untrusted XML here', expires }],
});

test('GIVEN a CRITICAL finding on amd64 WHEN the build is released THEN the gate refuses it: nothing is promoted and no tag moves', async () => {
  const b = await stagedBuild();
  const stagingBefore = await tagSnapshot(local.registry, b.staging);
  const source = recordedSource(b.findings);

  const refused = await release(b, DEFAULT_VULNERABILITY_POLICY, source).catch((e: unknown) => e);

  expect(refused).toBeInstanceOf(VulnerabilityGateError);
  expect((refused as Error).message).toContain('linux/amd64: 1 finding(s)');
  expect((refused as Error).message).toContain('CRITICAL CVE-2024-45490 in expat 2.5.0-1');
  expect((refused as Error).message).not.toContain('linux/arm64:');
  expect(await tagSnapshot(local.registry, b.repository)).toEqual({});
  expect(await tagSnapshot(local.registry, b.staging)).toEqual(stagingBefore);
  // The findings were read where the build is: staging.
  expect(source.calls.every((c) => c.startsWith(`${b.staging}@`))).toBe(true);
});

test('GIVEN the same findings and an unexpired allowance WHEN the build is released THEN it is promoted and tagged, and the summary names the allowance', async () => {
  const b = await stagedBuild();
  const result = await release(b, allowing('2026-12-31'), recordedSource(b.findings));
  expect(result.tags).toEqual(['1.2.3', '1.2', '1', 'latest']);
  expect(result.gate?.summary).toBe(
    'linux/amd64: 0 blocking, 1 allowed (CVE-2024-45490), 3 below CRITICAL; linux/arm64: 0 blocking, 0 allowed, 0 below CRITICAL',
  );
  const tags = await tagSnapshot(local.registry, b.repository);
  expect(tags['latest']).toBe(result.digest);
});

test('GIVEN an allowance that expired yesterday WHEN the build is released THEN the gate refuses it again and no tag moves', async () => {
  const b = await stagedBuild();
  const refused = await release(b, allowing('2026-12-01'), recordedSource(b.findings)).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(VulnerabilityGateError);
  expect((refused as Error).message).toContain('(its allowance expired on 2026-12-01)');
  expect(await tagSnapshot(local.registry, b.repository)).toEqual({});
});

test('GIVEN a scan that never completes WHEN the build is released THEN the gate gives up at its bound and nothing moves', async () => {
  const b = await stagedBuild();
  let clock = NOW.getTime();
  const source = recordedSource(new Map([...b.findings.keys()].map((d) => [d, { imageScanStatus: { status: 'IN_PROGRESS' } }])));
  const refused = await releaseImage(local.registry, b.repository, {
    buildId: b.buildId,
    rules: RULES,
    now: NOW,
    staging: b.staging,
    gate: (plan, repository) =>
      runScanGate(source, repository, 'gate', plan, {
        policy: DEFAULT_VULNERABILITY_POLICY,
        maxWaitSeconds: 60,
        pollSeconds: 10,
        now: () => new Date(clock),
        sleep: async (ms) => {
          clock += ms;
        },
      }),
  }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ScanUnavailableError);
  expect((refused as Error).message).toMatch(/is still IN_PROGRESS after 60 s \(the gate's bound\)/);
  // Read at 0, 10, …, 60 s of the 60 s bound, then given up.
  expect(source.calls).toHaveLength(7);
  expect(await tagSnapshot(local.registry, b.repository)).toEqual({});
});

describe('findings the gate cannot judge refuse the release, and nothing is promoted or tagged', () => {
  /** Stages a build whose amd64 image has `amd64Findings`, releases it, proves nothing was promoted or tagged and returns what was thrown. */
  async function refusedWith(amd64Findings: unknown) {
    const b = await stagedBuild();
    const stagingBefore = await tagSnapshot(local.registry, b.staging);
    const index = (await local.registry.getManifest(b.staging, b.buildId))!;
    const [amd64] = [...b.findings.keys()];
    b.findings.set(amd64, amd64Findings as ScanFindingsResponse);

    const refused = await release(b, DEFAULT_VULNERABILITY_POLICY, recordedSource(b.findings)).catch((e: unknown) => e);

    expect(await tagSnapshot(local.registry, b.repository)).toEqual({});
    expect(await local.registry.getManifest(b.repository, index.digest)).toBeUndefined();
    expect(await local.registry.getManifest(b.repository, amd64)).toBeUndefined();
    expect(await tagSnapshot(local.registry, b.staging)).toEqual(stagingBefore);
    return { refused: refused as Error, amd64, staging: b.staging };
  }

  test('GIVEN findings with a null entry WHEN the build is released THEN ScanFindingsShapeError names the image, platform, page and entry', async () => {
    const { refused, amd64, staging } = await refusedWith({ imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [null] } });
    expect(refused).toBeInstanceOf(ScanFindingsShapeError);
    expect(refused.message).toContain(
      `scan findings of ${staging}@${amd64} (linux/amd64) from recorded ECR findings, page 1: imageScanFindings.findings[0] is null, not an object`,
    );
    expect(refused.message).toContain('nothing was promoted and no tag moved');
  });

  test('GIVEN imageScanFindings that is a string WHEN the build is released THEN it is refused the same way', async () => {
    const { refused } = await refusedWith({ imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: 'CRITICAL: 0' });
    expect(refused).toBeInstanceOf(ScanFindingsShapeError);
    expect(refused.message).toContain('imageScanFindings is a string ("CRITICAL: 0"), not an object');
  });

  test('GIVEN a finding whose severity ECR does not write ("CRITICAL ") WHEN the build is released THEN the gate refuses it as UNKNOWN', async () => {
    const { refused } = await refusedWith({
      imageScanStatus: { status: 'COMPLETE' },
      imageScanFindings: { findings: [{ name: 'CVE-2024-0001', severity: 'CRITICAL ' }] },
    });
    expect(refused).toBeInstanceOf(VulnerabilityGateError);
    expect(refused.message).toContain('linux/amd64: 1 finding(s)');
    expect(refused.message).toContain('UNKNOWN severity "CRITICAL " CVE-2024-0001');
  });
});
