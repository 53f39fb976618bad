/**
 * The real SDK clients (no mocks) against a local HTTP endpoint that records
 * every request: a broken AWS environment stops `dcf push` before any write,
 * with a message that says what to do.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExitCode } from '../src';
import { IMAGE_FILES, Workspace } from './support/harness';

const saved = { ...process.env };
let server: Server;
let port: number;
let requests: { method?: string; url?: string; target?: string }[] = [];
let answer: (req: IncomingMessage) => { status: number; headers: Record<string, string>; body: string };

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, target: req.headers['x-amz-target'] as string | undefined });
    req.resume();
    req.on('end', () => {
      const { status, headers, body } = answer(req);
      res.writeHead(status, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

let ws: Workspace;
beforeEach(() => {
  ws = new Workspace();
  requests = [];
  answer = () => ({ status: 500, headers: {}, body: '' });
  process.env = { ...saved, AWS_ENDPOINT_URL: `http://localhost:${port}`, AWS_REGION: 'eu-west-1', AWS_MAX_ATTEMPTS: '1' };
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  delete process.env.AWS_SESSION_TOKEN;
  ws.write('python', IMAGE_FILES);
});
afterEach(() => {
  process.env = { ...saved };
  ws.cleanup();
});

const credentials = () => Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });

test('no credentials: says how to sign in, and sends nothing', async () => {
  const { code, stderr } = await ws.run(['push', 'python'], { env: process.env });

  expect(code).toBe(ExitCode.Aws);
  expect(stderr).toContain(
    "error: no AWS credentials while reading the factory's SSM parameters for namespace 'devcontainers': " +
      'sign in (e.g. "aws sso login --profile <name>"), then set AWS_PROFILE or pass --profile',
  );
  expect(requests).toEqual([]);
});

test('no region: says where to set one, and sends nothing', async () => {
  credentials();
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;

  const { code, stderr } = await ws.run(['push', 'python'], { env: process.env });

  expect(code).toBe(ExitCode.Aws);
  expect(stderr).toContain("error: no AWS region while reading the factory's SSM parameters");
  expect(stderr).toContain('set AWS_REGION, give your profile a region, or pass --region');
  expect(requests).toEqual([]);
});

test('credentials AWS rejects: says to sign in again; the only request was the SSM read', async () => {
  credentials();
  answer = () => ({
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'UnrecognizedClientException' },
    body: JSON.stringify({ __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }),
  });

  const { code, stderr } = await ws.run(['push', 'python'], { env: process.env });

  expect(code).toBe(ExitCode.Aws);
  expect(stderr).toContain(
    "error: AWS rejected your credentials while reading the factory's SSM parameters for namespace 'devcontainers' (UnrecognizedClientException): check AWS_PROFILE / --profile and sign in again",
  );
  expect(requests).toEqual([{ method: 'POST', url: '/', target: 'AmazonSSM.GetParameters' }]);
});

test('an endpoint that cannot be reached: says to check the network, with the stack under --verbose', async () => {
  credentials();
  process.env.AWS_ENDPOINT_URL = 'http://localhost:1';

  const { code, stderr } = await ws.run(['push', 'python', '--verbose'], { env: process.env });

  expect(code).toBe(ExitCode.Aws);
  expect(stderr).toContain("error: cannot reach AWS while reading the factory's SSM parameters for namespace 'devcontainers' (ECONNREFUSED)");
  expect(stderr).toMatch(/caused by: .*ECONNREFUSED/);
});
