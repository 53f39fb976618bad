/**
 * Runs the vulnerability gate on a build: reads the scan findings of each platform's
 * image (waiting, with a bound, for a scan still in progress) and judges them with
 * {@link judgeFindings}. Release calls it after its plan and before it promotes or
 * tags anything, so a refused build moves nothing.
 */
import { FactoryError } from '../factory-error';
import { parseManifest, type Descriptor } from '../oci/manifest';
import { PageLimit } from '../oci/page-limit';
import { formatPlatform } from '../oci/platform';
import type { ReleasePlan } from '../image/release';
import {
  checkScanFindingsShape,
  formatGateSummary,
  judgeFindings,
  ScanFindingsShapeError,
  VulnerabilityGateError,
  type PlatformVerdict,
  type ScanFindingsPage,
  type ScanFindingsResponse,
  type VulnerabilityPolicy,
} from './vulnerability-gate';

/** Where findings come from: ECR's `DescribeImageScanFindings`, or a local scanner's report in its shape. */
export interface ScanFindingsSource {
  /** What the source is, for messages, e.g. `ECR basic scanning`. */
  readonly name: string;
  /**
   * One page of an image's findings; `undefined` when the registry has no scan of it (yet).
   * The gate checks each page's shape, so a source may return what it read unchecked.
   */
  findings(repository: string, digest: string, nextToken?: string): Promise<ScanFindingsPage | undefined>;
}

/** Bounds of the gate. */
export const SCAN_GATE_LIMITS = {
  /** How long the gate waits for a scan to complete, by default: 10 minutes (basic scans take seconds to minutes). */
  maxWaitSeconds: 600,
  /** Between two reads of a scan in progress. */
  pollSeconds: 10,
  /** The longest wait that may be set: 14 minutes, so the Release function (15 minutes) still has time to release after it. */
  maxWaitLimitSeconds: 840,
  /** Pages of findings read per image (1,000 findings a page in ECR). */
  maxPages: 20,
} as const;

/** Scan states in which the findings are final (`ACTIVE`: enhanced scanning, scanned and monitored). */
const DONE = new Set(['COMPLETE', 'ACTIVE']);
/** Scan states worth waiting for. */
const WAITING = new Set(['IN_PROGRESS', 'PENDING']);

/** The scan of an image did not complete within the bound, or cannot complete. */
export class ScanUnavailableError extends FactoryError {}

export interface ScanGateOptions {
  readonly policy: VulnerabilityPolicy;
  /** @default SCAN_GATE_LIMITS.maxWaitSeconds */
  readonly maxWaitSeconds?: number;
  /** @default SCAN_GATE_LIMITS.pollSeconds */
  readonly pollSeconds?: number;
  readonly now: () => Date;
  /** @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The per-platform images of an index (attestations and other `unknown` platforms left out). */
export function platformImages(plan: Pick<ReleasePlan, 'body' | 'mediaType' | 'digest'>, where: string): { platform: string; digest: string }[] {
  const parsed = parseManifest({ mediaType: plan.mediaType, body: plan.body, digest: plan.digest }, where);
  const images: readonly Descriptor[] =
    parsed.kind === 'index' ? parsed.index.manifests : [{ mediaType: parsed.mediaType, digest: plan.digest, size: plan.body.length }];
  return (
    images
      .filter((d) => d.platform === undefined || (d.platform.os !== 'unknown' && d.platform.architecture !== 'unknown'))
      // arm64's v8 is its default variant: named as the catalogue names the platform.
      .map((d) => ({
        platform: d.platform
          ? formatPlatform(d.platform.architecture === 'arm64' && d.platform.variant === 'v8' ? { os: d.platform.os, architecture: 'arm64' } : d.platform)
          : 'single-platform',
        digest: d.digest,
      }))
  );
}

/**
 * Reads every page of one image's findings once its scan is done, waiting for it within
 * the bound. Every page is checked ({@link checkScanFindingsShape}) before anything of it
 * is used, so a source may pass on what it read as is: a page that is not in the shape of
 * `DescribeImageScanFindings` throws {@link ScanFindingsShapeError}, naming the image,
 * platform, page and field.
 */
export async function readScanFindings(
  source: ScanFindingsSource,
  repository: string,
  image: { platform: string; digest: string },
  options: ScanGateOptions,
): Promise<ScanFindingsResponse> {
  const maxWait = (options.maxWaitSeconds ?? SCAN_GATE_LIMITS.maxWaitSeconds) * 1000;
  const poll = (options.pollSeconds ?? SCAN_GATE_LIMITS.pollSeconds) * 1000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const where = `${repository}@${image.digest} (${image.platform})`;
  const pageOf = (n: number) => `${where} from ${source.name}, page ${n}`;
  /** Page `n`, checked; undefined when the source has no scan of the image. */
  const read = async (n: number, token?: string): Promise<ScanFindingsPage | undefined> => {
    const answer: unknown = await source.findings(repository, image.digest, token);
    return answer === undefined ? undefined : checkScanFindingsShape(answer, pageOf(n));
  };
  const started = options.now().getTime();
  // Time spent is the clock's or the sum of the waits, whichever is more: a clock that
  // stands still (or a test's) cannot keep the gate waiting past its bound.
  let waited = 0;
  let first = await read(1);
  for (;;) {
    const status = first?.imageScanStatus?.status;
    if (first && status !== undefined && DONE.has(status)) break;
    if (status !== undefined && !WAITING.has(status)) {
      throw new ScanUnavailableError(
        `the scan of ${where} is ${status}${first?.imageScanStatus?.description ? ` (${first.imageScanStatus.description})` : ''}: ` +
          'the gate cannot judge an image without findings; fix the scan or set vulnerabilities.blockAt: none in the catalogue to release without it',
      );
    }
    if (Math.max(options.now().getTime() - started, waited) + poll > maxWait) {
      throw new ScanUnavailableError(
        `the scan of ${where} by ${source.name} ${status ? `is still ${status}` : 'has not started'} after ${Math.round(maxWait / 1000)} s (the gate's bound): ` +
          'check that scan on push covers the staging repository, then retry the Release',
      );
    }
    await sleep(poll);
    waited += poll;
    first = await read(1);
  }
  /** The findings of page `n` of a completed scan, which must be there. */
  const findingsOn = (page: ScanFindingsPage | undefined, n: number): NonNullable<ScanFindingsResponse['imageScanFindings']> => {
    if (page === undefined)
      throw new ScanUnavailableError(`the scan of ${where} by ${source.name} went away while its findings were read (page ${n} has none): retry the Release`);
    // A completed scan with no findings still says so (`imageScanFindings: { findings: [] }`): without it, the gate cannot tell none from unread.
    if (page.imageScanFindings === undefined) throw new ScanFindingsShapeError(pageOf(n), 'imageScanFindings', 'an object', undefined);
    return page.imageScanFindings;
  };
  const pages = new PageLimit(SCAN_GATE_LIMITS.maxPages, {
    repeated: (_token, read) => new ScanUnavailableError(`the findings of ${where} do not end: page ${read} gives a nextToken already used`),
    tooMany: (_token, max) => new ScanUnavailableError(`the findings of ${where} run past ${max} pages: too many to judge; fix the image's base`),
  });
  const firstFindings = findingsOn(first, 1);
  const findings = [...(firstFindings.findings ?? [])];
  const enhancedFindings = [...(firstFindings.enhancedFindings ?? [])];
  pages.visit('');
  let n = 1;
  for (let token = first.nextToken; token;) {
    pages.visit(token);
    n++;
    const page = await read(n, token);
    const on = findingsOn(page, n);
    findings.push(...(on.findings ?? []));
    enhancedFindings.push(...(on.enhancedFindings ?? []));
    token = page?.nextToken;
  }
  return { imageScanStatus: first.imageScanStatus, imageScanFindings: { findings, enhancedFindings } };
}

/** What the gate decided, for the stage summary. */
export interface GateOutcome {
  readonly verdicts: readonly PlatformVerdict[];
  /** e.g. `linux/amd64: 0 blocking, 1 allowed (CVE-…), 3 below CRITICAL; linux/arm64: …` */
  readonly summary: string;
}

/**
 * Judges every platform of the planned release against the policy; throws
 * {@link VulnerabilityGateError} (naming the findings, platform and how to allow them)
 * when one blocks, {@link ScanUnavailableError} when a scan cannot be read, and
 * {@link ScanFindingsShapeError} when its findings are not in the documented shape.
 * Each is thrown before Release writes anything.
 */
export async function runScanGate(
  source: ScanFindingsSource,
  repository: string,
  imageId: string,
  plan: Pick<ReleasePlan, 'body' | 'mediaType' | 'digest'>,
  options: ScanGateOptions,
): Promise<GateOutcome> {
  const verdicts: PlatformVerdict[] = [];
  for (const image of platformImages(plan, `${repository}@${plan.digest}`)) {
    const response = await readScanFindings(source, repository, image, options);
    verdicts.push(judgeFindings(image.platform, response, options.policy, options.now()));
  }
  if (verdicts.some((v) => v.blocking.length > 0)) throw new VulnerabilityGateError(imageId, verdicts);
  return { verdicts, summary: formatGateSummary(verdicts, options.policy) };
}
