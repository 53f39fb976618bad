/**
 * Retention of one image's repositories, started by an EventBridge schedule: plans the
 * staging repository `<ns>/builds/<id>` (builds released or older than N days) and the
 * release repository `<ns>/images/<id>` (keeps every `X.Y.Z`, `X.Y`, `X`, `latest` and
 * the newest N date tags, and whatever a kept index references), logs each plan, then
 * deletes unless `DRY_RUN`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { releaseLockOf, type LockInvocation } from '../../registry/dynamodb-release-lock';
import { jsonLog, type JobLog } from '../../codepipeline/job-runner';
import { EcrRegistry } from '../../registry/ecr-registry';
import {
  type Registry,
  DEFAULT_KEEP_DATE_TAGS,
  DEFAULT_STAGING_MAX_AGE_DAYS,
  RETENTION_ENVIRONMENT,
  RETENTION_LIMITS,
  applyRetention,
  formatRetentionPlan,
  planRetention,
  type RetentionOptions,
  type RetryOptions,
  type ReleaseLock,
  FactoryError,
} from '@devcontainer-factory/core';

/** What the retention handler talks to; built once per Lambda container, replaced in tests. */
export interface RetentionClients {
  readonly ecr: ECRClient;
  /**
   * The `fetch` that downloads image configs from ECR's layer URLs.
   * @default - the global `fetch`
   */
  readonly fetch?: typeof fetch;
  /**
   * How to retry throttled ECR calls.
   * @default - 5 retries with exponential backoff from 200 ms
   */
  readonly retry?: RetryOptions;
  /**
   * The clock, for the age of staging builds.
   * @default - the current time
   */
  readonly now?: () => Date;
  /**
   * Where to log.
   * @default - one JSON object per line ({@link jsonLog}) with the release repository and `dryRun`
   */
  readonly log?: JobLog;
  /**
   * The lock retention takes for each batch of deletes, the one Release holds while it writes.
   * @default - the DynamoDB lock of the table the function's environment names; else a lock file in `/tmp`
   */
  readonly releaseLock?: ReleaseLock;
}

/** The settings of one run, from the environment (the construct's) and the event (which may override each). */
export interface RetentionSettings {
  readonly registryHost: string;
  readonly releaseRepository: string;
  readonly stagingRepository: string;
  readonly keepDateTags: number;
  readonly stagingMaxAgeDays: number;
  readonly dryRun: boolean;
}

/** What one run did, per repository. */
export interface RetentionRunResult {
  readonly dryRun: boolean;
  readonly repositories: readonly {
    readonly repository: string;
    readonly planned: number;
    readonly deleted: number;
    readonly kept: number;
    readonly skipped: number;
    /** Deletes left for the next run: the run stopped before the function's time-out. */
    readonly remaining: number;
  }[];
}

/** What the handler knows of its invocation: the Lambda context's remaining time. */
export type RetentionInvocation = LockInvocation;

/**
 * How long before the function's time-out retention starts no new batch of deletes:
 * one batch (a tag listing, a re-plan and one `BatchDeleteImage` of 100) takes seconds;
 * the margin leaves room for a slow one and for the log lines.
 */
export const RETENTION_STOP_MARGIN_MS = 90_000;

/** Thrown for a missing or malformed setting; nothing was planned or deleted. */
export class RetentionSettingsError extends FactoryError {}

/** Reads the settings: each variable of {@link RETENTION_ENVIRONMENT} from the event when it has it (a string), else from `env`. */
export function retentionSettings(event: unknown, env: Readonly<Record<string, string | undefined>>): RetentionSettings {
  const fromEvent = typeof event === 'object' && event !== null && !Array.isArray(event) ? (event as Record<string, unknown>) : {};
  const read = (name: string): string | undefined => {
    const value = fromEvent[name];
    if (value !== undefined && typeof value !== 'string')
      throw new RetentionSettingsError(`${name} in the event must be a string, not ${JSON.stringify(value)}`);
    return value ?? env[name];
  };
  const required = (name: string): string => {
    const value = read(name)?.trim();
    if (!value) throw new RetentionSettingsError(`${name} is not set: the ImageRetention construct sets it on the function`);
    return value;
  };
  const count = (name: string, fallback: number, max: number): number => {
    const text = read(name)?.trim();
    if (text === undefined || text === '') return fallback;
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max)
      throw new RetentionSettingsError(`${name} must be a whole number from 1 to ${max}, not '${text}'`);
    return Number(text);
  };
  const flag = (name: string): boolean => {
    const text = read(name)?.trim().toLowerCase();
    if (text === undefined || text === '' || text === 'false' || text === '0') return false;
    if (text === 'true' || text === '1') return true;
    throw new RetentionSettingsError(`${name} must be 'true' or 'false', not '${text}'`);
  };
  const E = RETENTION_ENVIRONMENT;
  return {
    registryHost: required(E.registryHost),
    releaseRepository: required(E.releaseRepository),
    stagingRepository: required(E.stagingRepository),
    keepDateTags: count(E.keepDateTags, DEFAULT_KEEP_DATE_TAGS, RETENTION_LIMITS.keepDateTags),
    stagingMaxAgeDays: count(E.stagingMaxAgeDays, DEFAULT_STAGING_MAX_AGE_DAYS, RETENTION_LIMITS.stagingMaxAgeDays),
    dryRun: flag(E.dryRun),
  };
}

/**
 * Plans both repositories of the image (staging first, while the release repository
 * still holds the builds it released), logs every plan line, then applies each plan
 * unless `dryRun`. A failure is logged and thrown, so that the invocation fails.
 */
export async function runRetention(
  event: unknown,
  env: Readonly<Record<string, string | undefined>>,
  clients: RetentionClients,
  invocation?: RetentionInvocation,
): Promise<RetentionRunResult> {
  const settings = retentionSettings(event, env);
  const log = clients.log ?? jsonLog({ repository: settings.releaseRepository, dryRun: settings.dryRun });
  const clock = clients.now ?? (() => new Date());
  const now = clock();
  // Stop starting batches a margin before the time-out: what is left is deleted by the next run.
  const deadline = invocation ? new Date(now.getTime() + invocation.getRemainingTimeInMillis() - RETENTION_STOP_MARGIN_MS) : undefined;
  const registry: Registry = new EcrRegistry({ client: clients.ecr, host: settings.registryHost, retry: clients.retry, fetch: clients.fetch });
  const lock = clients.releaseLock ?? releaseLockOf(env, dynamoDb, invocation);
  const runs: [string, RetentionOptions][] = [
    [
      settings.stagingRepository,
      { kind: 'staging', maxAgeDays: settings.stagingMaxAgeDays, now, releaseRepository: settings.releaseRepository, ...(lock && { lock }) },
    ],
    [settings.releaseRepository, { kind: 'release', keepDateTags: settings.keepDateTags, now, ...(lock && { lock }) }],
  ];
  const repositories: RetentionRunResult['repositories'][number][] = [];
  for (const [repository, options] of runs) {
    try {
      const plan = await planRetention(registry, repository, options);
      for (const line of formatRetentionPlan(plan)) log.log(line);
      if (settings.dryRun) {
        log.log(`${repository}: dry run, nothing deleted`);
        repositories.push({ repository, planned: plan.delete.length, deleted: 0, kept: plan.keep.length, skipped: 0, remaining: 0 });
        continue;
      }
      const result = await applyRetention(registry, repository, plan, { ...(deadline && { deadline }), clock });
      for (const s of result.skipped) log.log(`skipped ${s.entry.digest}: ${s.reason}`);
      log.log(
        `${repository}: deleted ${result.deleted.length}, kept ${result.plan.keep.length}${result.skipped.length ? `, skipped ${result.skipped.length}` : ''}`,
      );
      if (result.remaining.length) {
        log.log(
          `${repository}: stopped ${RETENTION_STOP_MARGIN_MS / 1000} s before the function's time-out with ${result.remaining.length} delete(s) left; the next run deletes them`,
        );
      }
      repositories.push({
        repository,
        planned: plan.delete.length,
        deleted: result.deleted.length,
        kept: result.plan.keep.length,
        skipped: result.skipped.length,
        remaining: result.remaining.length,
      });
    } catch (error) {
      log.error(`retention of ${repository} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }
  return { dryRun: settings.dryRun, repositories };
}

const clients: RetentionClients = { ecr: new ECRClient({}) };
/** Built on first use: only functions with a lock table talk to DynamoDB. */
let dynamo: DynamoDBClient | undefined;
const dynamoDb = () => (dynamo ??= new DynamoDBClient({}));

export const handler = async (event: unknown, context?: RetentionInvocation): Promise<RetentionRunResult> => runRetention(event, process.env, clients, context);
