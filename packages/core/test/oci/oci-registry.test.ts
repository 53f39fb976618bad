import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OciRegistry, RegistryError, RegistryHttpError } from '../../src';
import { parseWwwAuthenticate } from '../../src/oci/private/www-authenticate';
import { hostArch, pushTestImage } from '@devcontainer-factory/testing';
import { useLocalRegistry } from '@devcontainer-factory/testing';

// The client's authentication and retries, through a small HTTP front that asks for
// credentials as ECR (Basic) or Docker Hub (Bearer tokens) do, in front of a real registry.

jest.setTimeout(30_000);

interface Front {
  readonly host: string;
  /** `METHOD path -> status` of every request the front answered. */
  readonly log: string[];
  stop(): Promise<void>;
}

interface FrontOptions {
  readonly auth: 'basic' | 'bearer';
  /** Answer this many registry requests with 429 first. */
  readonly throttle?: number;
}

const USER = 'AWS';
const PASSWORD = 'token-from-GetAuthorizationToken';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

function scopeOf(req: IncomingMessage): string {
  const name = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(req.url ?? '')?.[1] ?? '';
  return `repository:${name}:${req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'pull,push'}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function startFront(upstream: string, options: FrontOptions): Promise<Front> {
  const log: string[] = [];
  let throttle = options.throttle ?? 0;
  let origin = '';
  const answer = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer | string) => {
    log.push(`${req.method} ${req.url?.split('?')[0]} -> ${status}`);
    res.writeHead(status, headers).end(body);
  };
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/token')) {
      const ok = req.headers.authorization === BASIC;
      const scope = new URL(url, origin).searchParams.get('scope');
      return answer(req, res, ok ? 200 : 401, { 'content-type': 'application/json' }, ok ? JSON.stringify({ token: `t:${scope}` }) : '{}');
    }
    const wanted = options.auth === 'basic' ? BASIC : `Bearer t:${scopeOf(req)}`;
    if (req.headers.authorization !== wanted) {
      const challenge =
        options.auth === 'basic'
          ? `Basic realm="${origin}/",service="ecr.amazonaws.com"`
          : `Bearer realm="${origin}/token",service="front",scope="${scopeOf(req)}"`;
      return answer(req, res, 401, { 'www-authenticate': challenge, 'content-type': 'application/json' }, '{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (throttle > 0) {
      throttle--;
      return answer(req, res, 429, { 'content-type': 'application/json' }, '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
    }
    const body = await readBody(req);
    const forwarded = await fetch(`${upstream}${url}`, {
      method: req.method,
      headers: Object.fromEntries(['content-type', 'accept'].filter((h) => req.headers[h]).map((h) => [h, String(req.headers[h])])),
      body: body.length ? body : undefined,
      redirect: 'manual',
    });
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'docker-content-digest', 'link']) {
      const v = forwarded.headers.get(h);
      if (v) headers[h] = v;
    }
    const location = forwarded.headers.get('location');
    if (location) headers.location = location.replace(upstream, origin);
    answer(req, res, forwarded.status, headers, Buffer.from(await forwarded.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://localhost:${port}`;
  return { host: `localhost:${port}`, log, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

const noWait = { sleep: async () => undefined };
const live = useLocalRegistry();

describe('OciRegistry authentication', () => {
  test('GIVEN a registry that asks for Basic credentials (as ECR does) WHEN an image is pushed and read THEN the client answers the challenge once and keeps using it', async () => {
    // GIVEN
    const front = await startFront(`http://${live.host}`, { auth: 'basic' });
    const registry = new OciRegistry({ host: front.host, username: USER, password: PASSWORD });

    try {
      // WHEN
      const pushed = await registry.pushImage('devcontainers/images/basic', 'v1', { config: { architecture: 'amd64', os: 'linux' }, layers: [] });
      const read = await registry.getManifest('devcontainers/images/basic', 'v1');

      // THEN
      expect(read?.digest).toBe(pushed.digest);
      expect(front.log.filter((l) => l.endsWith('-> 401'))).toHaveLength(1);
    } finally {
      await front.stop();
    }
  });

  test('GIVEN a registry that asks for Bearer tokens WHEN an image is pushed and tags are read THEN a token is fetched per scope from the realm', async () => {
    // GIVEN
    const front = await startFront(`http://${live.host}`, { auth: 'bearer' });
    const registry = new OciRegistry({ host: front.host, username: USER, password: PASSWORD });

    try {
      // WHEN
      await registry.pushImage('devcontainers/images/bearer', 'v1', { config: { architecture: 'arm64', os: 'linux' }, layers: [] });
      const tags = await registry.listTags('devcontainers/images/bearer');

      // THEN
      expect(tags).toEqual(['v1']);
      expect(front.log.filter((l) => l.startsWith('GET /token'))).toEqual(['GET /token -> 200', 'GET /token -> 200']);
    } finally {
      await front.stop();
    }
  });

  test('GIVEN wrong credentials WHEN a manifest is read THEN the error says the credentials were refused', async () => {
    // GIVEN
    const basic = await startFront(`http://${live.host}`, { auth: 'basic' });
    const bearer = await startFront(`http://${live.host}`, { auth: 'bearer' });

    try {
      // WHEN / THEN
      await expect(new OciRegistry({ host: basic.host, username: USER, password: 'expired' }).getManifest('x/y', 'latest')).rejects.toThrow(
        /localhost:\d+ refused the credentials for repository:x\/y:pull/,
      );
      await expect(new OciRegistry({ host: basic.host }).getManifest('x/y', 'latest')).rejects.toThrow(/pass username and password/);
      await expect(new OciRegistry({ host: bearer.host, username: USER, password: 'expired' }).listTags('x/y')).rejects.toThrow(
        /token service .* refused repository:x\/y:pull: HTTP 401/,
      );
    } finally {
      await basic.stop();
      await bearer.stop();
    }
  });
});

describe('OciRegistry retries and errors', () => {
  test('GIVEN a registry that answers 429 twice WHEN a manifest is read THEN the client retries and succeeds', async () => {
    // GIVEN
    const pushed = await pushTestImage(live.host, 'devcontainers/images/busy', 'v1', 'amd64');
    const front = await startFront(`http://${live.host}`, { auth: 'basic', throttle: 2 });
    const registry = new OciRegistry({ host: front.host, username: USER, password: PASSWORD, retry: noWait });

    try {
      // WHEN
      const read = await registry.getManifest('devcontainers/images/busy', 'v1');

      // THEN
      expect(read?.digest).toBe(pushed.digest);
      expect(front.log.filter((l) => l.endsWith('-> 429'))).toHaveLength(2);
    } finally {
      await front.stop();
    }
  });

  test('GIVEN a registry that keeps answering 429 WHEN a manifest is read THEN it gives up with a RegistryHttpError carrying the status', async () => {
    // GIVEN
    const front = await startFront(`http://${live.host}`, { auth: 'basic', throttle: 100 });
    const registry = new OciRegistry({ host: front.host, username: USER, password: PASSWORD, retry: { ...noWait, retries: 2 } });

    try {
      // WHEN
      const error = await registry.getManifest('devcontainers/images/busy', 'v1').catch((e: unknown) => e);

      // THEN
      expect(error).toBeInstanceOf(RegistryHttpError);
      expect(error).toMatchObject({ status: 429, code: 'TOOMANYREQUESTS' });
      expect(front.log.filter((l) => l.endsWith('-> 429'))).toHaveLength(3);
    } finally {
      await front.stop();
    }
  });

  test('GIVEN nothing listening WHEN a manifest is read THEN the error says the registry cannot be reached and keeps the cause', async () => {
    // GIVEN
    const front = await startFront(`http://${live.host}`, { auth: 'basic' });
    await front.stop();

    // WHEN
    const error = await new OciRegistry({ host: front.host }).getManifest('x/y', 'latest').catch((e: unknown) => e);

    // THEN
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toMatch(/cannot reach the registry at http:\/\/localhost:\d+/);
    expect((error as Error).cause).toBeDefined();
  });

  test('GIVEN a host with a scheme WHEN the client is made THEN it says to give host[:port]', () => {
    expect(() => new OciRegistry({ host: 'http://localhost:5000' })).toThrow(/give host\[:port\] without a scheme/);
  });

  test('GIVEN hosts WHEN no insecure flag is given THEN only loopback hosts use plain HTTP', () => {
    expect(new OciRegistry({ host: 'localhost:5000' }).baseUrl).toBe('http://localhost:5000');
    expect(new OciRegistry({ host: '127.0.0.1:5000' }).baseUrl).toBe('http://127.0.0.1:5000');
    expect(new OciRegistry({ host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' }).baseUrl).toBe('https://123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    expect(new OciRegistry({ host: 'registry.internal:5000', insecure: true }).baseUrl).toBe('http://registry.internal:5000');
  });
});

describe('parseWwwAuthenticate', () => {
  test.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull"',
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/node:pull' } },
    ],
    [
      'Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"',
      { scheme: 'basic', params: { realm: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/', service: 'ecr.amazonaws.com' } },
    ],
    ['Bearer realm=https://r.example/token, scope="a \\"b\\""', { scheme: 'bearer', params: { realm: 'https://r.example/token', scope: 'a "b"' } }],
  ])('GIVEN %s WHEN parsed THEN the scheme and parameters come back', (header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  test('GIVEN no header WHEN parsed THEN there is no challenge', () => {
    expect(parseWwwAuthenticate(null)).toBeUndefined();
    expect(parseWwwAuthenticate('  ')).toBeUndefined();
  });
});

describe('pushTestImage', () => {
  test('GIVEN a test image with busybox WHEN its layer is read back THEN GNU tar lists a real root file system', async () => {
    // GIVEN
    const image = await pushTestImage(live.host, 'devcontainers/images/runnable', 'v1', hostArch(), { busybox: true });
    const layer = await new OciRegistry({ host: live.host }).getBlob('devcontainers/images/runnable', image.manifest.layers[0].digest);
    const dir = await mkdtemp(join(tmpdir(), 'dcf-layer-'));

    try {
      // WHEN
      await writeFile(join(dir, 'layer.tar.gz'), layer);
      const { stdout } = await promisify(execFile)('tar', ['-tzvf', join(dir, 'layer.tar.gz')]);

      // THEN
      expect(stdout).toMatch(/etc\/dcf-test-image/);
      expect(stdout).toMatch(/bin\/sh -> busybox/);
      expect(stdout).toMatch(/-rwxr-xr-x root\/root .* bin\/busybox/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
