/**
 * `dcf local retention` as a plain function: for each image of a catalogue, plans
 * retention of its staging repository `<ns>/builds/<id>` and its release repository
 * `<ns>/images/<id>` (the same `planRetention` / `applyRetention` as the cloud's
 * scheduled Lambda), and applies each plan unless it is a dry run.
 */
import {
  DEFAULT_KEEP_DATE_TAGS,
  FactoryError,
  DEFAULT_STAGING_MAX_AGE_DAYS,
  OciRegistry,
  RETENTION_LIMITS,
  applyRetention,
  formatRetentionPlan,
  planRetention,
  repositoryName,
  stagingRepositoryName,
  type ReleaseLock,
  type Registry,
  type RetentionOptions,
  type RetentionPlan,
} from '@devcontainer-factory/core';
import type { LocalCatalog } from './local-catalog';

export interface LocalRetentionProps {
  readonly catalog: LocalCatalog;
  /** The registry, `localhost:<port>`. */
  readonly registryHost: string;
  /** Plan and print only; delete nothing. */
  readonly dryRun: boolean;
  /** For every image; @default - each image's catalogue `keepDateTags`, else DEFAULT_KEEP_DATE_TAGS (10) */
  readonly keepDateTags?: number;
  /** @default DEFAULT_STAGING_MAX_AGE_DAYS (14) */
  readonly stagingMaxAgeDays?: number;
  /** @default - the current time */
  readonly now?: Date;
  /**
   * Receives each plan line as soon as the plan is made (before anything is deleted).
   * @default - silent
   */
  readonly log?: (line: string) => void;
  /**
   * The lock releases take.
   * @default - the machine-wide default of `@devcontainer-factory/core`
   */
  readonly lock?: ReleaseLock;
  /**
   * The registry client.
   * @default - an `OciRegistry` of `registryHost`
   */
  readonly registry?: Registry;
}

/** What retention did to one repository. */
export interface LocalRetentionRepository {
  readonly repository: string;
  readonly kind: 'staging' | 'release';
  /** The plan's lines, as `formatRetentionPlan` gives them. */
  readonly lines: readonly string[];
  /** Digests the plan deletes. */
  readonly planned: readonly string[];
  /** Digests deleted (none in a dry run). */
  readonly deleted: readonly string[];
  /** Digests kept. */
  readonly kept: readonly string[];
  /** Planned deletes skipped because a kept tag arrived meanwhile, with why. */
  readonly skipped: readonly string[];
}

export interface LocalRetentionResult {
  readonly registry: string;
  readonly namespace: string;
  readonly dryRun: boolean;
  readonly images: readonly { readonly id: string; readonly repositories: readonly LocalRetentionRepository[] }[];
}

/** Thrown for a bad `--keep-date-tags` or `--staging-days`; the message names the flag and the range. */
export class RetentionFlagError extends FactoryError {}

/** Reads `--keep-date-tags N` and `--staging-days N`: whole numbers from 1 to the limits of `RETENTION_LIMITS`. */
export function parseRetentionFlags(flags: { readonly keepDateTags?: string; readonly stagingDays?: string }): {
  keepDateTags?: number;
  stagingMaxAgeDays?: number;
} {
  const count = (text: string | undefined, flag: string, max: number): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max)
      throw new RetentionFlagError(`${flag} must be a whole number from 1 to ${max}, not '${text}'`);
    return Number(text);
  };
  const keepDateTags = count(flags.keepDateTags, '--keep-date-tags', RETENTION_LIMITS.keepDateTags);
  const stagingMaxAgeDays = count(flags.stagingDays, '--staging-days', RETENTION_LIMITS.stagingMaxAgeDays);
  return { ...(keepDateTags !== undefined ? { keepDateTags } : {}), ...(stagingMaxAgeDays !== undefined ? { stagingMaxAgeDays } : {}) };
}

/** The summary lines of a run: one per repository. */
export function retentionSummary(result: LocalRetentionResult): string[] {
  const lines: string[] = [];
  for (const image of result.images) {
    for (const r of image.repositories) {
      const done = result.dryRun ? `would delete ${r.planned.length}` : `deleted ${r.deleted.length}`;
      lines.push(`${r.repository} (${r.kind}): ${done}, kept ${r.kept.length}${r.skipped.length ? `, skipped ${r.skipped.length}` : ''}`);
    }
  }
  if (result.dryRun) lines.push('dry run: nothing was deleted (run again without --dry-run to delete)');
  return lines;
}

/**
 * Plans (and unless `dryRun`, applies) retention of every image of the catalogue:
 * staging first (while the release repository still holds the builds it released),
 * then the release repository. Stops at the first failure, which it throws.
 */
export async function runLocalRetention(props: LocalRetentionProps): Promise<LocalRetentionResult> {
  const registry = props.registry ?? new OciRegistry({ host: props.registryHost });
  const now = props.now ?? new Date();
  const { namespace } = props.catalog;
  const images: LocalRetentionResult['images'][number][] = [];
  for (const image of props.catalog.images) {
    const releaseRepository = repositoryName(namespace, 'image', image.id);
    const stagingRepository = stagingRepositoryName(namespace, image.id);
    const lock = props.lock ? { lock: props.lock } : {};
    const runs: [string, RetentionOptions][] = [
      [stagingRepository, { kind: 'staging', maxAgeDays: props.stagingMaxAgeDays ?? DEFAULT_STAGING_MAX_AGE_DAYS, now, releaseRepository, ...lock }],
      [releaseRepository, { kind: 'release', keepDateTags: props.keepDateTags ?? image.keepDateTags ?? DEFAULT_KEEP_DATE_TAGS, now, ...lock }],
    ];
    const repositories: LocalRetentionRepository[] = [];
    for (const [repository, options] of runs) {
      const plan: RetentionPlan = await planRetention(registry, repository, options);
      const lines = formatRetentionPlan(plan);
      for (const line of lines) props.log?.(line);
      const planned = plan.delete.map((e) => e.digest);
      if (props.dryRun) {
        repositories.push({ repository, kind: options.kind, lines, planned, deleted: [], kept: plan.keep.map((e) => e.digest), skipped: [] });
        continue;
      }
      const result = await applyRetention(registry, repository, plan);
      repositories.push({
        repository,
        kind: options.kind,
        lines,
        planned,
        deleted: result.deleted.map((e) => e.digest),
        kept: result.plan.keep.map((e) => e.digest),
        skipped: result.skipped.map((s) => `${s.entry.digest}: ${s.reason}`),
      });
    }
    images.push({ id: image.id, repositories });
  }
  return { registry: props.registryHost, namespace, dryRun: props.dryRun, images };
}
