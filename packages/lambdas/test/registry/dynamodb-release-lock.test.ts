import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { RELEASE_LOCK_TABLE_ENVIRONMENT, ReleaseLockTimeoutError, RegistryError } from '@devcontainer-factory/core';
import { DynamoDbReleaseLock, LEASE_MARGIN_MS, releaseLockOf } from '../../src/registry/dynamodb-release-lock';

const dynamo = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const held = (holder: string) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: { holder: { S: holder }, since: { S: '2026-12-01T00:00:00.000Z' }, expiresAt: { N: String(Date.UTC(2026, 11, 1, 0, 16)) } },
  });

beforeEach(() => dynamo.reset());

describe('DynamoDbReleaseLock', () => {
  test('GIVEN a free lock WHEN acquired and released THEN it puts the item on condition that none is there or it expired, and deletes it on condition that it is still its own', async () => {
    // GIVEN
    dynamo.on(PutItemCommand).resolves({});
    dynamo.on(DeleteItemCommand).resolves({});
    const lock = new DynamoDbReleaseLock({ client, tableName: 'locks', leaseMs: 60_000, now: () => 1_000_000, holder: 'release' });

    // WHEN
    const lease = await lock.acquire(HOST, 'devcontainers/images/python');
    await lease.release();
    await lease.release();

    // THEN
    const put = dynamo.commandCalls(PutItemCommand)[0].args[0].input;
    expect(put.Item!.lock).toEqual({ S: `${HOST}/devcontainers/images/python` });
    expect(put.Item!.expiresAt).toEqual({ N: '1060000' });
    expect(put.ConditionExpression).toBe('attribute_not_exists(#k) OR #e < :now');
    expect(put.ExpressionAttributeValues).toEqual({ ':now': { N: '1000000' } });
    const deletes = dynamo.commandCalls(DeleteItemCommand);
    expect(deletes).toHaveLength(1);
    expect(deletes[0].args[0].input.ConditionExpression).toBe('#t = :t');
    expect(deletes[0].args[0].input.ExpressionAttributeValues).toEqual({ ':t': put.Item!.token });
  });

  test('GIVEN a lock held by another writer WHEN the wait runs out THEN ReleaseLockTimeoutError names the repository, the holder and the table', async () => {
    // GIVEN
    dynamo.on(PutItemCommand).rejects(held('retention request 42'));
    let clock = 0;
    const lock = new DynamoDbReleaseLock({
      client,
      tableName: 'locks',
      timeoutMs: 5000,
      pollMs: 1000,
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });

    // WHEN
    const error = await lock.acquire(HOST, 'devcontainers/images/python').catch((e: unknown) => e);

    // THEN
    expect(error).toBeInstanceOf(ReleaseLockTimeoutError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^${HOST}/devcontainers/images/python is locked by another writer \\(retention request 42 since 2026-12-01T00:00:00.000Z, until 2026-12-01T00:16:00.000Z\\) for more than 5 s \\(DynamoDB table locks\\)`,
      ),
    );
    expect(dynamo.commandCalls(PutItemCommand).length).toBeGreaterThan(2);
  });

  test('GIVEN a lock released after two tries WHEN acquired THEN it holds it', async () => {
    dynamo.on(PutItemCommand).rejectsOnce(held('release')).rejectsOnce(held('release')).resolves({});
    const lock = new DynamoDbReleaseLock({ client, tableName: 'locks', sleep: async () => undefined });
    await expect(lock.acquire(HOST, 'devcontainers/images/python')).resolves.toBeDefined();
    expect(dynamo.commandCalls(PutItemCommand)).toHaveLength(3);
  });

  test('GIVEN a lease that ran out and was taken by another writer WHEN released THEN the other writer keeps it', async () => {
    dynamo.on(PutItemCommand).resolves({});
    dynamo.on(DeleteItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const lease = await new DynamoDbReleaseLock({ client, tableName: 'locks' }).acquire(HOST, 'r');
    await expect(lease.release()).resolves.toBeUndefined();
  });

  test('GIVEN DynamoDB refusing access WHEN acquired THEN a RegistryError names the table and the cause', async () => {
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('User is not authorized to perform: dynamodb:PutItem'), { name: 'AccessDeniedException' }));
    const error = await new DynamoDbReleaseLock({ client, tableName: 'locks', retry: { retries: 0 } }).acquire(HOST, 'r').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toMatch(/release lock of .*\/r in DynamoDB table locks failed: AccessDeniedException: User is not authorized/);
  });
});

describe('releaseLockOf', () => {
  test('GIVEN no table in the environment THEN there is no shared lock', () => {
    expect(releaseLockOf({}, () => client)).toBeUndefined();
  });

  test("GIVEN a table and an invocation THEN the lease is the invocation's remaining time and the margin, and the holder names the request", async () => {
    dynamo.on(PutItemCommand).resolves({});
    const lock = releaseLockOf(
      { [RELEASE_LOCK_TABLE_ENVIRONMENT]: 'locks' },
      () => client,
      { getRemainingTimeInMillis: () => 120_000, functionName: 'release-fn', awsRequestId: 'abc' },
      { now: () => 0 },
    );
    await lock!.acquire(HOST, 'r');
    const item = dynamo.commandCalls(PutItemCommand)[0].args[0].input.Item!;
    expect(item.expiresAt).toEqual({ N: String(120_000 + LEASE_MARGIN_MS) });
    expect(item.holder).toEqual({ S: 'release-fn request abc' });
  });
});
