/**
 * The release lock of the cloud: one DynamoDB item per registry host and repository,
 * created with a conditional write, so that Release and Retention, each in a Lambda of
 * its own (whose `/tmp` locks exclude nothing across invocations), never write one
 * repository at the same time.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import {
  RELEASE_LOCK_TABLE_ENVIRONMENT,
  RELEASE_LOCK_TABLE_KEYS,
  RegistryError,
  ReleaseLockTimeoutError,
  withRetry,
  type HeldReleaseLock,
  type ReleaseLock,
  type RetryOptions,
} from '@devcontainer-factory/core';

/** Bounds of the lock. */
export const DYNAMODB_RELEASE_LOCK_LIMITS = {
  /** How long a lock holds when the holder does not say: a Lambda's longest time-out (15 minutes) and a minute. */
  leaseMs: 16 * 60_000,
  /** How long `acquire` waits for a held lock by default. */
  timeoutMs: 300_000,
  /** Between two attempts while it is held. */
  pollMs: 1000,
} as const;

export interface DynamoDbReleaseLockProps {
  readonly client: DynamoDBClient;
  /** The table, with a string partition key `lock` (see {@link RELEASE_LOCK_TABLE_KEYS}). */
  readonly tableName: string;
  /**
   * How long a lock holds, in ms from when it is taken: past it, another writer may take
   * it (the holder is gone). A function is stopped at its time-out, so its remaining
   * time plus a margin is the right lease.
   * @default DYNAMODB_RELEASE_LOCK_LIMITS.leaseMs (16 minutes)
   */
  readonly leaseMs?: number | (() => number);
  /**
   * How long to wait for a held lock before failing with {@link ReleaseLockTimeoutError}.
   * @default DYNAMODB_RELEASE_LOCK_LIMITS.timeoutMs (5 minutes)
   */
  readonly timeoutMs?: number;
  /**
   * Time between two attempts while the lock is held.
   * @default DYNAMODB_RELEASE_LOCK_LIMITS.pollMs (1 s)
   */
  readonly pollMs?: number;
  /**
   * Who holds the lock, for the messages of those who wait, e.g. the function name and request id.
   * @default - `pid <pid>`
   */
  readonly holder?: string;
  /**
   * How to retry throttled DynamoDB calls.
   * @default - {@link withRetry} defaults
   */
  readonly retry?: RetryOptions;
  /** @default - the current time */
  readonly now?: () => number;
  /** @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * A {@link ReleaseLock} in a DynamoDB table. `acquire` puts the item on condition that
 * none is there or the one there has expired (its holder is gone: leases end with the
 * holder's time-out), and waits, bounded, while another holds it; `release` deletes the
 * item on condition that it is still this holder's. DynamoDB's conditional writes are
 * atomic, so exactly one writer holds a repository at a time.
 */
export class DynamoDbReleaseLock implements ReleaseLock {
  private readonly props: DynamoDbReleaseLockProps;

  constructor(props: DynamoDbReleaseLockProps) {
    if (!props.tableName) throw new RegistryError('DynamoDbReleaseLock needs the name of its table');
    this.props = props;
  }

  async acquire(host: string, repository: string): Promise<HeldReleaseLock> {
    const { client, tableName } = this.props;
    const now = this.props.now ?? Date.now;
    const sleep = this.props.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const timeoutMs = this.props.timeoutMs ?? DYNAMODB_RELEASE_LOCK_LIMITS.timeoutMs;
    const pollMs = this.props.pollMs ?? DYNAMODB_RELEASE_LOCK_LIMITS.pollMs;
    const key = `${host}/${repository}`;
    const token = randomUUID();
    const holder = this.props.holder ?? `pid ${process.pid}`;
    const started = now();
    let waited = 0;
    for (;;) {
      const at = now();
      const lease = typeof this.props.leaseMs === 'function' ? this.props.leaseMs() : (this.props.leaseMs ?? DYNAMODB_RELEASE_LOCK_LIMITS.leaseMs);
      const expires = at + lease;
      let current: string | undefined;
      try {
        await withRetry(
          () =>
            client.send(
              new PutItemCommand({
                TableName: tableName,
                Item: {
                  [RELEASE_LOCK_TABLE_KEYS.partitionKey]: { S: key },
                  token: { S: token },
                  holder: { S: holder },
                  since: { S: new Date(at).toISOString() },
                  expiresAt: { N: String(expires) },
                  [RELEASE_LOCK_TABLE_KEYS.timeToLive]: { N: String(Math.ceil(expires / 1000) + 3600) },
                },
                ConditionExpression: 'attribute_not_exists(#k) OR #e < :now',
                ExpressionAttributeNames: { '#k': RELEASE_LOCK_TABLE_KEYS.partitionKey, '#e': 'expiresAt' },
                ExpressionAttributeValues: { ':now': { N: String(at) } },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              }),
            ),
          this.props.retry,
        );
        return { release: once(() => this.remove(key, token)) };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) && (error as { name?: string }).name !== 'ConditionalCheckFailedException') {
          throw new RegistryError(`taking the release lock of ${key} in DynamoDB table ${tableName} failed: ${describe(error)}`, { cause: error });
        }
        const item = (error as ConditionalCheckFailedException).Item;
        current = item
          ? `${item.holder?.S ?? 'unknown holder'} since ${item.since?.S ?? '?'}, until ${item.expiresAt?.N ? new Date(Number(item.expiresAt.N)).toISOString() : '?'}`
          : 'unknown holder';
      }
      if (Math.max(now() - started, waited) + pollMs > timeoutMs) {
        throw new ReleaseLockTimeoutError(key, `DynamoDB table ${tableName}`, current, timeoutMs, {
          hint: 'Wait for the other Release or Retention run to finish; a holder that is gone frees the lock when its lease ends',
        });
      }
      await sleep(pollMs * (0.5 + Math.random()));
      waited += pollMs;
    }
  }

  private async remove(key: string, token: string): Promise<void> {
    try {
      await withRetry(
        () =>
          this.props.client.send(
            new DeleteItemCommand({
              TableName: this.props.tableName,
              Key: { [RELEASE_LOCK_TABLE_KEYS.partitionKey]: { S: key } },
              ConditionExpression: '#t = :t',
              ExpressionAttributeNames: { '#t': 'token' },
              ExpressionAttributeValues: { ':t': { S: token } },
            }),
          ),
        this.props.retry,
      );
    } catch (error) {
      // Not ours any more: the lease ran out and another writer holds it now. Leave it.
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return;
      throw new RegistryError(`giving up the release lock of ${key} in DynamoDB table ${this.props.tableName} failed: ${describe(error)}`, { cause: error });
    }
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/** What a handler knows of its invocation (the Lambda context). */
export interface LockInvocation {
  getRemainingTimeInMillis(): number;
  readonly functionName?: string;
  readonly awsRequestId?: string;
}

/** What a lease outlasts its holder's remaining time by: the holder is stopped at its time-out. */
export const LEASE_MARGIN_MS = 60_000;

/**
 * The shared release lock of a function whose environment names the table
 * ({@link RELEASE_LOCK_TABLE_ENVIRONMENT}); undefined when it names none. Its lease is
 * the invocation's remaining time and {@link LEASE_MARGIN_MS}.
 */
export function releaseLockOf(
  environment: Readonly<Record<string, string | undefined>>,
  client: () => DynamoDBClient,
  invocation?: LockInvocation,
  props: Partial<DynamoDbReleaseLockProps> = {},
): ReleaseLock | undefined {
  const tableName = environment[RELEASE_LOCK_TABLE_ENVIRONMENT]?.trim();
  if (!tableName) return undefined;
  return new DynamoDbReleaseLock({
    ...props,
    client: client(),
    tableName,
    ...(invocation && {
      leaseMs: () => invocation.getRemainingTimeInMillis() + LEASE_MARGIN_MS,
      holder: `${invocation.functionName ?? 'function'} request ${invocation.awsRequestId ?? '?'}`,
    }),
  });
}
