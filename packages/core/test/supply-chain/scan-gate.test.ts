import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_VULNERABILITY_POLICY,
  FactoryError,
  KNOWN_SEVERITIES,
  MEDIA_TYPES,
  ScanFindingsShapeError,
  ScanUnavailableError,
  VulnerabilityGateError,
  judgeFindings,
  readScanFindings,
  runScanGate,
  sha256Digest,
  type ScanFindingsPage,
  type ScanFindingsResponse,
  type ScanFindingsSource,
  type VulnerabilityPolicy,
} from '../../src';

// The gate's reading of findings fails closed: every page is checked before anything of it
// is used, and no JSON value a scanner may answer makes the gate crash or judge a finding
// it could not read.

const recorded = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as Record<string, unknown>;
const FIXTURES = [recorded('ecr-basic-findings.json'), recorded('ecr-enhanced-findings.json')];
const NOW = new Date('2026-12-02T09:00:00Z');
const REPOSITORY = 'devcontainers/builds/python';
const IMAGE = { platform: 'linux/amd64', digest: `sha256:${'a'.repeat(64)}` };
const WHERE = `${REPOSITORY}@${IMAGE.digest} (linux/amd64) from a recorded scanner`;
const options = { policy: DEFAULT_VULNERABILITY_POLICY, now: () => NOW, sleep: async () => undefined, maxWaitSeconds: 30, pollSeconds: 10 };

/** A source that answers the pages in order (the first page again while the scan is in progress). */
function pagedSource(...pages: unknown[]): ScanFindingsSource & { calls: (string | undefined)[] } {
  const calls: (string | undefined)[] = [];
  return {
    name: 'a recorded scanner',
    calls,
    findings: async (_repository, _digest, nextToken) => {
      calls.push(nextToken);
      return pages[nextToken === undefined ? 0 : Number(nextToken.replace('page-', '')) - 1] as ScanFindingsPage | undefined;
    },
  };
}
const finding = (name: string, severity: string) => ({ name, severity, attributes: [{ key: 'package_name', value: 'zlib' }] });

describe('readScanFindings checks every page', () => {
  test('GIVEN a second page whose findings hold null THEN ScanFindingsShapeError names the image, platform, page and finding', async () => {
    const source = pagedSource(
      { imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [finding('CVE-1', 'LOW')] }, nextToken: 'page-2' },
      { imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [finding('CVE-2', 'LOW'), null] } },
    );
    const read = readScanFindings(source, REPOSITORY, IMAGE, options);
    await expect(read).rejects.toThrow(ScanFindingsShapeError);
    await expect(readScanFindings(source, REPOSITORY, IMAGE, options)).rejects.toThrow(
      `the vulnerability gate cannot judge the scan findings of ${WHERE}, page 2: imageScanFindings.findings[1] is null, not an object as in ECR's DescribeImageScanFindings; nothing was promoted and no tag moved`,
    );
  });

  test('GIVEN a completed scan without imageScanFindings THEN it is refused: the gate cannot tell no findings from unread ones', async () => {
    await expect(readScanFindings(pagedSource({ imageScanStatus: { status: 'COMPLETE' } }), REPOSITORY, IMAGE, options)).rejects.toThrow(
      `scan findings of ${WHERE}, page 1: imageScanFindings is missing, not an object`,
    );
  });

  test('GIVEN a malformed answer while the scan is in progress THEN the gate refuses at once instead of waiting', async () => {
    const source = pagedSource({ imageScanStatus: 'IN_PROGRESS' });
    await expect(readScanFindings(source, REPOSITORY, IMAGE, options)).rejects.toThrow(`page 1: imageScanStatus is a string ("IN_PROGRESS"), not an object`);
    expect(source.calls).toEqual([undefined]);
  });

  // ECR's states in which a scan ends without findings the gate could judge: each refuses at once, none is read as a clean scan.
  test.each(['FAILED', 'UNSUPPORTED_IMAGE', 'SCAN_ELIGIBILITY_EXPIRED', 'FINDINGS_UNAVAILABLE', 'LIMIT_EXCEEDED'])(
    'GIVEN a scan that is %s (with an empty list of findings) THEN the gate refuses at once, naming the state: it is not a scan without findings',
    async (status) => {
      const source = pagedSource({ imageScanStatus: { status, description: 'as ECR says it' }, imageScanFindings: { findings: [] } });
      const read = readScanFindings(source, REPOSITORY, IMAGE, options);
      await expect(read).rejects.toThrow(ScanUnavailableError);
      await expect(readScanFindings(source, REPOSITORY, IMAGE, options)).rejects.toThrow(
        `the scan of ${REPOSITORY}@${IMAGE.digest} (linux/amd64) is ${status} (as ECR says it): the gate cannot judge an image without findings`,
      );
      // Refused on the first answer: no wait for a state that does not change.
      expect(source.calls).toEqual([undefined, undefined]);
    },
  );

  test.each(['COMPLETE', 'ACTIVE'])(
    'GIVEN a scan that is %s with no findings THEN it is read as clean: the two states whose findings are final',
    async (status) => {
      const source = pagedSource({ imageScanStatus: { status }, imageScanFindings: { findings: [] } });
      await expect(readScanFindings(source, REPOSITORY, IMAGE, options)).resolves.toMatchObject({ imageScanStatus: { status } });
    },
  );

  test('GIVEN a next page that is gone THEN the gate refuses with ScanUnavailableError instead of judging the first page alone', async () => {
    const source = pagedSource({ imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [] }, nextToken: 'page-2' }, undefined);
    const read = readScanFindings(source, REPOSITORY, IMAGE, options);
    await expect(read).rejects.toThrow(ScanUnavailableError);
    await expect(readScanFindings(source, REPOSITORY, IMAGE, options)).rejects.toThrow(
      'went away while its findings were read (page 2 has none): retry the Release',
    );
  });

  test('GIVEN pages in the documented shape THEN their findings are merged and judged', async () => {
    const source = pagedSource(
      { imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [finding('CVE-1', 'LOW')] }, nextToken: 'page-2' },
      { imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findings: [finding('CVE-2', 'CRITICAL ')] } },
    );
    const response = await readScanFindings(source, REPOSITORY, IMAGE, options);
    const verdict = judgeFindings('linux/amd64', response, DEFAULT_VULNERABILITY_POLICY, NOW);
    expect(verdict.counts).toEqual({ LOW: 1, UNKNOWN: 1 });
    expect(verdict.blocking.map((f) => f.id)).toEqual(['CVE-2']);
  });
});

// ---- property: any JSON value --------------------------------------------------------

/** A small seeded generator (mulberry32), so a failure names a case that can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const STRINGS = [
  ...KNOWN_SEVERITIES,
  'critical',
  'CRITICAL ',
  ' HIGH',
  'UNKNOWN',
  'SEVERE',
  '',
  'ACTIVE',
  'SUPPRESSED',
  'CLOSED',
  'active',
  'Closed',
  'COMPLETE',
  'IN_PROGRESS',
  'CVE-2024-1',
  'constructor',
  '0',
];
const KEYS = [
  'imageScanStatus',
  'status',
  'description',
  'imageScanFindings',
  'findings',
  'enhancedFindings',
  'name',
  'severity',
  'uri',
  'attributes',
  'key',
  'value',
  'title',
  'packageVulnerabilityDetails',
  'vulnerabilityId',
  'sourceUrl',
  'vulnerablePackages',
  'version',
  'nextToken',
  'constructor',
  'toString',
  'length',
  '0',
];

function randomJson(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * (depth >= 3 ? 5 : 8));
  const of = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return of([0, -1, 1, 3.5, 1e308, -0, Number.MAX_SAFE_INTEGER]);
    case 3:
      return of(STRINGS);
    case 4:
      return String.fromCharCode(...Array.from({ length: Math.floor(r() * 6) }, () => 32 + Math.floor(r() * 95)));
    case 5:
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [of(KEYS), randomJson(r, depth + 1)]));
  }
}

/** Every place in a JSON value: the containers and the key or index of each child. */
function places(value: unknown, out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = []) {
  const children: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : value && typeof value === 'object'
      ? Object.entries(value)
      : [];
  for (const [key, child] of children) {
    out.push({ parent: value as Record<string, unknown> | unknown[], key });
    places(child, out);
  }
  return out;
}

/** A recorded response with one to three of its values replaced by random JSON (or left out), or random JSON altogether. */
function mutated(r: () => number, stringsOnly = false): unknown {
  if (!stringsOnly && r() < 0.1) return randomJson(r);
  const value = structuredClone(FIXTURES[Math.floor(r() * FIXTURES.length)]) as unknown;
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const all = places(value).filter((p) => !stringsOnly || typeof (p.parent as Record<string | number, unknown>)[p.key] === 'string');
    if (all.length === 0) break;
    const { parent, key } = all[Math.floor(r() * all.length)];
    if (stringsOnly) (parent as Record<string | number, unknown>)[key] = STRINGS[Math.floor(r() * STRINGS.length)];
    else if (r() < 0.15 && !Array.isArray(parent)) delete parent[key as string];
    else (parent as Record<string | number, unknown>)[key] = randomJson(r);
  }
  // As a scanner's JSON would arrive: through JSON text.
  return JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
}

/** What the gate must make of a response it accepts: every entry counted, none dropped, unknown severities ranked above CRITICAL. */
function expected(response: ScanFindingsResponse) {
  const known = (s: string | undefined) => (s !== undefined && KNOWN_SEVERITIES.includes(s) ? s : 'UNKNOWN');
  const severities = [
    ...(response.imageScanFindings?.findings ?? []).map((f) => known(f.severity)),
    ...(response.imageScanFindings?.enhancedFindings ?? []).filter((f) => f.status !== 'SUPPRESSED' && f.status !== 'CLOSED').map((f) => known(f.severity)),
  ];
  return { total: severities.length, blockingAtCritical: severities.filter((s) => s === 'CRITICAL' || s === 'UNKNOWN').length };
}

const POLICIES: VulnerabilityPolicy[] = [
  DEFAULT_VULNERABILITY_POLICY,
  { blockAt: 'LOW', allow: [] },
  { blockAt: 'none', allow: [] },
  { blockAt: 'CRITICAL', allow: [{ id: 'CVE-2023-4863', reason: 'r', expires: '2027-01-01' }] },
];
// Under mutation testing each of these runs once per mutant they cover: fewer cases there, the same properties.
const CASES = process.env.DCF_MUTATION_RUN === '1' ? 200 : 3000;

describe('property: whatever JSON a scanner answers, the gate returns a verdict or throws its named error', () => {
  test(`GIVEN ${CASES} recorded responses with random values put in THEN judgeFindings never throws a TypeError, and what it accepts it counts in full`, () => {
    const r = random(20261202);
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const response = mutated(r) as ScanFindingsResponse;
      const policy = POLICIES[i % POLICIES.length];
      let verdict;
      try {
        verdict = judgeFindings('linux/amd64', response, policy, NOW);
      } catch (e) {
        if (!(e instanceof ScanFindingsShapeError)) throw new Error(`case ${i} (${JSON.stringify(response)?.slice(0, 300)}) threw ${String(e)}`);
        expect(e.message).toContain('nothing was promoted and no tag moved');
        refused++;
        continue;
      }
      const total = Object.values(verdict.counts).reduce((a, b) => a + (b ?? 0), 0);
      expect({ case: i, total }).toEqual({ case: i, total: expected(response).total });
      if (policy === DEFAULT_VULNERABILITY_POLICY)
        expect({ case: i, blocking: verdict.blocking.length }).toEqual({ case: i, blocking: expected(response).blockingAtCritical });
    }
    // Both outcomes were exercised.
    expect(refused).toBeGreaterThan(CASES / 10);
    expect(refused).toBeLessThan(CASES);
  });

  test(`GIVEN ${CASES} recorded responses with only their strings changed THEN the shape check never refuses them: it checks types, not values`, () => {
    const r = random(7);
    for (let i = 0; i < CASES; i++) {
      const response = mutated(r, true) as ScanFindingsResponse;
      expect(() => judgeFindings('linux/amd64', response, DEFAULT_VULNERABILITY_POLICY, NOW)).not.toThrow();
    }
  });

  test("GIVEN random pages from a source THEN runScanGate resolves or throws one of the gate's named errors, never a TypeError", async () => {
    const r = random(42);
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 2 },
        layers: [],
      }),
    );
    const plan = { mediaType: MEDIA_TYPES.ociManifest, body, digest: sha256Digest(body) };
    const outcomes = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const first = mutated(r);
      // Some first pages point at a second, random one.
      if (first && typeof first === 'object' && !Array.isArray(first) && r() < 0.3) (first as Record<string, unknown>).nextToken = 'page-2';
      const source = pagedSource(first, r() < 0.8 ? mutated(r) : randomJson(r));
      try {
        await runScanGate(source, REPOSITORY, 'python', plan, { ...options, policy: POLICIES[i % POLICIES.length] });
        outcomes.add('released');
      } catch (e) {
        if (!(e instanceof ScanFindingsShapeError || e instanceof ScanUnavailableError || e instanceof VulnerabilityGateError))
          throw new Error(`case ${i} threw ${String(e)}`);
        expect(e).toBeInstanceOf(FactoryError);
        outcomes.add(e.name);
      }
    }
    expect([...outcomes].sort()).toEqual(['ScanFindingsShapeError', 'ScanUnavailableError', 'VulnerabilityGateError', 'released']);
  });
});
