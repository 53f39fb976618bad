import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CREATE_FAILED_PHYSICAL_ID,
  CustomResourceResponseError,
  MAX_REASON_LENGTH,
  customResourceHandler,
  type CustomResourceRequest,
} from '../../src/handlers/private/custom-resource';
import { noWait, quietLog } from './job-fixtures';

// The custom resource protocol against a real HTTP endpoint standing in for the pre-signed
// S3 URL: every outcome is answered, and only an undeliverable answer fails the invocation.

let server: Server;
let url: string;
let received: { method?: string; contentType?: string; body: Record<string, unknown> }[];
/** HTTP statuses the endpoint answers with, one per request; 200 once they run out. */
let statuses: number[];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method, contentType: req.headers['content-type'], body: JSON.parse(data) });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?X-Amz-Signature=abc`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  statuses = [];
});

const request = (requestType: CustomResourceRequest['RequestType'], more: Partial<CustomResourceRequest> = {}): CustomResourceRequest => ({
  RequestType: requestType,
  ResponseURL: url,
  StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/acme-warehouse/0b9f3f40-0000-11ef-8000-0a1b2c3d4e5f',
  RequestId: 'request-1',
  ResourceType: 'Custom::Test',
  LogicalResourceId: 'Thing',
  ...(requestType !== 'Create' && { PhysicalResourceId: 'thing/1' }),
  ResourceProperties: {},
  ...more,
});
const options = { log: quietLog, retry: noWait };

test('GIVEN the work succeeds THEN one PUT with SUCCESS, its physical id and data, and an empty content type (the URL is signed without one)', async () => {
  await customResourceHandler(async () => ({ PhysicalResourceId: 'thing/1', Data: { ScanType: 'BASIC' } }), options)(request('Create'));
  expect(received).toEqual([
    {
      method: 'PUT',
      contentType: '',
      body: {
        Status: 'SUCCESS',
        PhysicalResourceId: 'thing/1',
        Data: { ScanType: 'BASIC' },
        StackId: expect.stringContaining(':stack/acme-warehouse/'),
        RequestId: 'request-1',
        LogicalResourceId: 'Thing',
      },
    },
  ]);
});

test('GIVEN a create fails THEN FAILED with the error, and a physical id no success ever returns', async () => {
  class LimitError extends Error {}
  const work = async () => {
    throw Object.assign(new LimitError('ECR allows 100 filters'), { name: 'LimitError' });
  };
  await customResourceHandler(work, options)(request('Create'));
  expect(received[0].body).toMatchObject({ Status: 'FAILED', Reason: 'LimitError: ECR allows 100 filters', PhysicalResourceId: CREATE_FAILED_PHYSICAL_ID });
});

test('GIVEN an update fails THEN FAILED keeps the physical id, so CloudFormation does not replace the resource', async () => {
  await customResourceHandler(async () => Promise.reject(new Error('no')), options)(request('Update'));
  expect(received[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'thing/1' });
});

test('GIVEN the work runs into the time-out margin THEN FAILED says so before the function is stopped', async () => {
  const never = () => new Promise<never>(() => undefined);
  await customResourceHandler(never, { ...options, marginMs: 950 })(request('Delete'), { getRemainingTimeInMillis: () => 1000 });
  expect(received[0].body).toMatchObject({
    Status: 'FAILED',
    PhysicalResourceId: 'thing/1',
    Reason: expect.stringMatching(/did not finish within the function's time-out/),
  });
});

test('GIVEN a very long error THEN the reason is cut to fit CloudFormation’s response size', async () => {
  await customResourceHandler(async () => Promise.reject(new Error('x'.repeat(10_000))), options)(request('Create'));
  expect(String(received[0].body.Reason)).toHaveLength(MAX_REASON_LENGTH);
});

test('GIVEN the endpoint is busy twice THEN the third PUT delivers the answer', async () => {
  statuses = [503, 500];
  await customResourceHandler(async () => ({ PhysicalResourceId: 'thing/1' }), options)(request('Create'));
  expect(received.map((r) => r.body.Status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
});

test('GIVEN the endpoint refuses the answer THEN the invocation fails (Lambda retries it), naming the request', async () => {
  statuses = [403];
  await expect(customResourceHandler(async () => ({ PhysicalResourceId: 'thing/1' }), options)(request('Create'))).rejects.toThrow(CustomResourceResponseError);
  statuses = [403];
  await expect(customResourceHandler(async () => ({ PhysicalResourceId: 'thing/1' }), options)(request('Create'))).rejects.toThrow(
    /the SUCCESS response to CloudFormation for Thing \(request request-1\) could not be delivered: HTTP 403/,
  );
});
