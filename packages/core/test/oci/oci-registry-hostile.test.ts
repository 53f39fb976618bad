import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  OciRegistry,
  OciRegistryProps,
  RegistryConnectionError,
  RegistryOriginError,
  RegistryPaginationError,
  RegistryResponseError,
  RegistryTimeoutError,
} from '../../src';
import { sha256Digest } from '../../src/oci/digest';
import { tokenRealmProblem } from '../../src/oci/private/origin-policy';

// The client against registries that misbehave: node:http servers on loopback that send
// credentials elsewhere, never answer, trickle, stream huge bodies, loop their Links,
// send the wrong shapes or drop the connection. Every server loop is bounded, and every
// server is closed (connections too) at the end of its test and in afterAll.

jest.setTimeout(30_000);

const USER = 'AWS';
const PASSWORD = 'secret-token';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const noWait = { sleep: async () => undefined };
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 },
  layers: [],
});

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
}

interface Hostile {
  /** `localhost:<port>`. */
  readonly host: string;
  /** `http://localhost:<port>`. */
  readonly origin: string;
  /** Every request received, in order. */
  readonly requests: Seen[];
  stop(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, count: number, self: Hostile) => void | Promise<void>;

const running = new Set<Server>();

function close(server: Server): Promise<void> {
  running.delete(server);
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

afterAll(async () => {
  await Promise.all([...running].map(close));
});

/** A server on localhost that answers with `handler`; `count` is the number of the request (1-based). */
async function startHostile(handler: Handler): Promise<Hostile> {
  const requests: Seen[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    void Promise.resolve(handler(req, res, requests.length, self)).catch(() => res.destroy());
  });
  running.add(server);
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const port = (server.address() as AddressInfo).port;
  const self: Hostile = { host: `localhost:${port}`, origin: `http://localhost:${port}`, requests, stop: () => close(server) };
  return self;
}

/** Answers 401 with a Basic challenge until the request carries the right credentials; true when it did. */
function basicAuth(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.authorization === BASIC) return true;
  res.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
  return false;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Writes up to `limit` bytes in 64 KiB chunks while the client reads; resolves with the bytes written. */
async function stream(res: ServerResponse, limit: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let written = 0;
  while (written < limit && !res.destroyed) {
    written += chunk.length;
    if (!res.write(chunk))
      await new Promise((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
  }
  res.end();
  return written;
}

/** A `fetch` that sends requests for made-up hosts to loopback servers, so that the client sees non-loopback hosts. */
function routed(routes: Record<string, string>): typeof fetch {
  return (input, init) => {
    const url = new URL(String(input));
    const to = routes[url.host];
    if (to) url.host = to;
    return fetch(url, init);
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)?.slice(0, 200)}`);
  return outcome.error as Error;
}

describe('OciRegistry sends credentials only where it should', () => {
  test('GIVEN an insecure registry whose Bearer realm is plain HTTP on another host WHEN a manifest is read THEN it refuses and the realm gets nothing', async () => {
    // GIVEN
    const realm = await startHostile((_req, res) => json(res, 200, { token: 'stolen' }));
    const registry = await startHostile((req, res) => {
      if (req.headers.authorization === 'Bearer stolen') res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(MANIFEST);
      else json(res, 401, '{}', { 'www-authenticate': 'Bearer realm="http://auth.example/token",service="hostile"' });
    });
    const client = new OciRegistry({
      host: 'registry.example',
      insecure: true,
      username: USER,
      password: PASSWORD,
      fetch: routed({ 'registry.example': registry.host, 'auth.example': realm.host }),
    });

    try {
      // WHEN
      const error = await failure(client.getManifest('x/y', 'latest'));

      // THEN
      expect(error).toBeInstanceOf(RegistryOriginError);
      expect(error.message).toMatch(/token realm http:\/\/auth\.example is plain HTTP on another host .* token realms must be HTTPS/);
      expect(realm.requests).toEqual([]);
    } finally {
      await realm.stop();
      await registry.stop();
    }
  });

  test('GIVEN a tags page whose Link points to another origin WHEN tags are listed THEN it refuses and that origin gets nothing', async () => {
    // GIVEN
    const other = await startHostile((_req, res) => json(res, 200, { tags: ['planted'] }));
    const registry = await startHostile((req, res) => {
      if (basicAuth(req, res)) json(res, 200, { tags: ['1.0.0'] }, { link: `<${other.origin}/v2/x/y/tags/list?n=1000&last=1.0.0>; rel="next"` });
    });
    const client = new OciRegistry({ host: registry.host, username: USER, password: PASSWORD });

    try {
      // WHEN
      const error = await failure(client.listTags('x/y'));

      // THEN
      expect(error).toBeInstanceOf(RegistryOriginError);
      expect(error.message).toMatch(
        /Link header of .* points to http:\/\/localhost:\d+\/v2\/x\/y\/tags\/list, not to http:\/\/localhost:\d+\/v2\/x\/y\/tags\/list; refusing/,
      );
      expect(other.requests).toEqual([]);
    } finally {
      await other.stop();
      await registry.stop();
    }
  });

  test('GIVEN a blob upload whose Location is on another origin WHEN a blob is pushed THEN it refuses and that origin gets neither credentials nor the blob', async () => {
    // GIVEN
    const other = await startHostile((_req, res) => void res.writeHead(201).end());
    const registry = await startHostile((req, res) => {
      if (!basicAuth(req, res)) return;
      if (req.method === 'HEAD') return void res.writeHead(404).end();
      res.writeHead(202, { location: `${other.origin}/upload/1` }).end();
    });
    const client = new OciRegistry({ host: registry.host, username: USER, password: PASSWORD });

    try {
      // WHEN
      const error = await failure(client.pushBlob('x/y', Buffer.from('layer bytes')));

      // THEN
      expect(error).toBeInstanceOf(RegistryOriginError);
      expect(error.message).toMatch(/blob upload Location http:\/\/localhost:\d+\/upload\/1 is on another origin/);
      expect(other.requests).toEqual([]);
    } finally {
      await other.stop();
      await registry.stop();
    }
  });

  test('GIVEN a blob GET that redirects to another origin (as S3-backed registries do) WHEN the blob is read THEN the redirect is followed without credentials', async () => {
    // GIVEN
    const bytes = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const storage = await startHostile((_req, res) => void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes));
    const registry = await startHostile((req, res) => {
      if (basicAuth(req, res)) res.writeHead(307, { location: `${storage.origin}/bucket/blob?signature=abc` }).end();
    });
    const client = new OciRegistry({ host: registry.host, username: USER, password: PASSWORD });

    try {
      // WHEN
      const read = await client.getBlob('x/y', sha256Digest(bytes));

      // THEN
      expect(read.equals(bytes)).toBe(true);
      expect(storage.requests).toEqual([{ method: 'GET', url: '/bucket/blob?signature=abc', authorization: undefined }]);
      expect(registry.requests.at(-1)?.authorization).toBe(BASIC);
    } finally {
      await storage.stop();
      await registry.stop();
    }
  });

  test('GIVEN a manifest GET that redirects to another origin WHEN it is read THEN it refuses: a tag read elsewhere cannot be checked', async () => {
    // GIVEN
    const other = await startHostile((_req, res) => void res.writeHead(200).end(MANIFEST));
    const registry = await startHostile((_req, res) => void res.writeHead(302, { location: `${other.origin}/m` }).end());

    try {
      // WHEN
      const error = await failure(new OciRegistry({ host: registry.host }).getManifest('x/y', 'latest'));

      // THEN
      expect(error).toBeInstanceOf(RegistryOriginError);
      expect(other.requests).toEqual([]);
    } finally {
      await other.stop();
      await registry.stop();
    }
  });

  test.each([
    ['an HTTPS realm on another host (Docker Hub, ECR, GHCR)', 'https://registry.example', 'https://auth.example/token', undefined],
    ['a plain-HTTP realm on loopback for a localhost registry', 'http://localhost:5000', 'http://127.0.0.1:5001/token', undefined],
    ['a plain-HTTP realm on the host of an insecure registry', 'http://registry.internal:5000', 'http://registry.internal:5001/token', undefined],
    ['a plain-HTTP realm on another host of an insecure registry', 'http://registry.internal:5000', 'http://auth.example/token', /must be HTTPS/],
    ['a plain-HTTP realm on another host of a localhost registry', 'http://localhost:5000', 'http://auth.example/token', /must be HTTPS/],
    ['a plain-HTTP realm on the host of an HTTPS registry', 'https://registry.example', 'http://registry.example/token', /must be HTTPS/],
    ['a realm that is not HTTP at all', 'https://registry.example', 'file:///etc/passwd', /neither HTTPS nor HTTP/],
  ])('GIVEN %s WHEN the token realm is checked THEN it is allowed or refused as expected', (_what, registry, realm, expected) => {
    const problem = tokenRealmProblem(new URL(registry), new URL(realm));
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });
});

describe('OciRegistry deadlines', () => {
  test('GIVEN a registry that never answers WHEN a manifest is read with a 300 ms deadline THEN it fails with a RegistryTimeoutError naming host, path and limit', async () => {
    // GIVEN
    const registry = await startHostile(() => undefined);
    const started = Date.now();

    try {
      // WHEN
      const error = await failure(new OciRegistry({ host: registry.host, timeoutMs: 300 }).getManifest('x/y', 'latest'));

      // THEN
      expect(error).toBeInstanceOf(RegistryTimeoutError);
      expect(error.message).toMatch(/^GET \/v2\/x\/y\/manifests\/latest on localhost:\d+ got no complete answer within 300 ms \(timeoutMs\)/);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(registry.requests).toHaveLength(1);
    } finally {
      await registry.stop();
    }
  });

  test.each([
    ['a manifest', (c: OciRegistry) => c.getManifest('x/y', 'latest'), { timeoutMs: 600 }, /GET \/v2\/x\/y\/manifests\/latest .* within 600 ms \(timeoutMs\)/],
    [
      'a blob',
      (c: OciRegistry) => c.getBlob('x/y', `sha256:${'a'.repeat(64)}`),
      { blobTimeoutMs: 600 },
      /GET \/v2\/x\/y\/blobs\/sha256:a+ .* within 600 ms \(blobTimeoutMs\)/,
    ],
  ])('GIVEN a registry that trickles %s one byte per 100 ms WHEN it is read THEN the deadline covers the body', async (_what, read, props, message) => {
    // GIVEN: 100 bytes at most, 10 s in all
    const registry = await startHostile(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '100' });
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        res.write(' ');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      res.end();
    });
    const started = Date.now();

    try {
      // WHEN
      const error = await failure(read(new OciRegistry({ host: registry.host, ...props })));

      // THEN
      expect(error).toBeInstanceOf(RegistryTimeoutError);
      expect(error.message).toMatch(message);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await registry.stop();
    }
  });
});

describe('OciRegistry size caps', () => {
  test('GIVEN a registry that streams a 64 MiB manifest WHEN it is read THEN it stops after 4 MiB with a RegistryResponseError', async () => {
    // GIVEN
    let written: Promise<number> = Promise.resolve(0);
    const registry = await startHostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      written = stream(res, 64 * 1024 * 1024);
    });

    try {
      // WHEN
      const error = await failure(new OciRegistry({ host: registry.host }).getManifest('x/y', 'latest'));

      // THEN
      expect(error).toBeInstanceOf(RegistryResponseError);
      expect(error.message).toMatch(/more than the 4194304 bytes allowed/);
      expect(await written).toBeLessThan(24 * 1024 * 1024);
    } finally {
      await registry.stop();
    }
  });

  test('GIVEN a manifest that declares 1.5 GiB WHEN it is read THEN it is refused from its Content-Length', async () => {
    // GIVEN
    const registry = await startHostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(1.5 * 1024 ** 3) });
      res.write(Buffer.alloc(1024));
    });

    try {
      // WHEN
      const error = await failure(new OciRegistry({ host: registry.host }).getManifest('x/y', 'latest'));

      // THEN
      expect(error).toBeInstanceOf(RegistryResponseError);
      expect(error.message).toMatch(/declares 1610612736 bytes \(Content-Length\): more than the 4194304 bytes allowed/);
    } finally {
      await registry.stop();
    }
  });

  test.each([
    ['a tags page', (c: OciRegistry) => c.listTags('x/y'), { maxJsonBytes: 1024 }],
    ['a blob', (c: OciRegistry) => c.getBlob('x/y', `sha256:${'a'.repeat(64)}`), { maxBlobBytes: 1024 }],
  ])('GIVEN %s over its cap WHEN it is read THEN it fails with a RegistryResponseError', async (_what, read, props) => {
    // GIVEN
    const registry = await startHostile((_req, res) => json(res, 200, { tags: Array.from({ length: 500 }, (_, i) => `tag-${i}`) }));

    try {
      // WHEN
      const error = await failure(read(new OciRegistry({ host: registry.host, ...props })));

      // THEN
      expect(error).toBeInstanceOf(RegistryResponseError);
      expect(error.message).toMatch(/more than the 1024 bytes allowed/);
    } finally {
      await registry.stop();
    }
  });
});

describe('OciRegistry pagination', () => {
  // The servers stop sending Link after 200 pages, so that an unbounded client ends too.
  test.each([
    ['a Link that points to the same page', (_n: number) => '/v2/x/y/tags/list?n=1000', {}, /Link header of page 1 points back to .* a page already read/, 1],
    ['a Link to a new page every time', (n: number) => `/v2/x/y/tags/list?n=1000&last=t${n}`, { maxTagPages: 5 }, /run past 5 pages \(maxTagPages\)/, 5],
  ])('GIVEN %s WHEN tags are listed THEN it stops with a RegistryPaginationError', async (_what, link, props, message, requests) => {
    // GIVEN
    const registry = await startHostile((_req, res, n) => json(res, 200, { tags: [`t${n}`] }, n < 200 ? { link: `<${link(n)}>; rel="next"` } : {}));

    try {
      // WHEN
      const error = await failure(new OciRegistry({ host: registry.host, ...props }).listTags('x/y'));

      // THEN
      expect(error).toBeInstanceOf(RegistryPaginationError);
      expect(error.message).toMatch(message);
      expect(registry.requests).toHaveLength(requests);
    } finally {
      await registry.stop();
    }
  });
});

describe('OciRegistry checks the shape of answers', () => {
  const tags = (c: OciRegistry) => c.listTags('x/y');
  const manifest = (c: OciRegistry) => c.getManifest('x/y', 'latest');
  const token = (c: OciRegistry) => c.listTags('x/y');
  test.each([
    [
      'tags as a string',
      tags,
      '{"name":"x/y","tags":"1.0.0"}',
      /tags list from http:\/\/localhost:\d+\/v2\/x\/y\/tags\/list\?n=1000 is not .* sent "\{\\"name\\":\\"x\/y\\",\\"tags\\":\\"1\.0\.0\\"\}"/,
    ],
    ['tags that are numbers', tags, '{"tags":[1,2]}', /tags list from .* is not \{"tags"/],
    ['a tag that no registry allows', tags, '{"tags":["../../etc"]}', /tags list from .* is not \{"tags"/],
    [
      'tags as an HTML page',
      tags,
      '<html><body>Sign in</body></html>',
      /the tags list from http:\/\/localhost:\d+\/v2\/x\/y\/tags\/list\?n=1000 is not JSON; the registry sent "<html><body>Sign in/,
    ],
    [
      'a manifest as an HTML page',
      manifest,
      `<html>${'x'.repeat(1000)}</html>`,
      /the manifest from .*manifests\/latest is not JSON; the registry sent "<html>x+"…/,
    ],
    ['a manifest that is a list', manifest, '[]', /the manifest from .* is not a JSON object/],
    ['a manifest whose mediaType is a number', manifest, '{"schemaVersion":2,"mediaType":5,"manifests":[]}', /has a 'mediaType' that is not a string/],
    ['a manifest without config, layers or manifests', manifest, '{"schemaVersion":2}', /has neither 'manifests'/],
  ])('GIVEN a registry that sends %s WHEN it is read THEN a RegistryResponseError says what it sent and where', async (_what, read, body, message) => {
    // GIVEN
    const registry = await startHostile((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(body));

    try {
      // WHEN
      const error = await failure(read(new OciRegistry({ host: registry.host })));

      // THEN
      expect(error).toBeInstanceOf(RegistryResponseError);
      expect(error.message).toMatch(message);
    } finally {
      await registry.stop();
    }
  });

  test.each([
    ['a token that is a number', '{"token":5}', /answered without a token .* sent "\{\\"token\\":5\}"/],
    [
      'an HTML page',
      '<html>login</html>',
      /the token answer of localhost:\d+ from http:\/\/localhost:\d+\/token is not JSON; the registry sent "<html>login<\/html>"/,
    ],
    ['no token', '{}', /answered without a token/],
  ])('GIVEN a token service that sends %s WHEN a token is needed THEN a RegistryResponseError says what it sent', async (_what, body, message) => {
    // GIVEN
    const registry = await startHostile((req, res, _n, self) => {
      if (req.url?.startsWith('/token')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      json(res, 401, '{}', { 'www-authenticate': `Bearer realm="${self.origin}/token",service="hostile"` });
    });

    try {
      // WHEN
      const error = await failure(token(new OciRegistry({ host: registry.host, username: USER, password: PASSWORD })));

      // THEN
      expect(error).toBeInstanceOf(RegistryResponseError);
      expect(error.message).toMatch(message);
    } finally {
      await registry.stop();
    }
  });
});

describe('OciRegistry retries dropped connections', () => {
  test('GIVEN a registry that drops the connection once WHEN a manifest is read THEN the GET is retried and succeeds', async () => {
    // GIVEN
    const registry = await startHostile((req, res, n) => {
      if (n === 1) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(MANIFEST);
    });

    try {
      // WHEN
      const read = await new OciRegistry({ host: registry.host, retry: noWait }).getManifest('x/y', 'latest');

      // THEN
      expect(read?.body.toString()).toBe(MANIFEST);
      expect(registry.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    } finally {
      await registry.stop();
    }
  });

  test('GIVEN a registry that drops the connection in the middle of a body WHEN a manifest is read THEN the GET is retried and succeeds', async () => {
    // GIVEN
    const registry = await startHostile((req, res, n) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(MANIFEST.length) });
      if (n === 1) {
        res.write(MANIFEST.slice(0, 10));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      res.end(MANIFEST);
    });

    try {
      // WHEN
      const read = await new OciRegistry({ host: registry.host, retry: noWait }).getManifest('x/y', 'latest');

      // THEN
      expect(read?.body.toString()).toBe(MANIFEST);
      expect(registry.requests).toHaveLength(2);
    } finally {
      await registry.stop();
    }
  });

  test('GIVEN a registry that drops the connection of the blob upload PUT once WHEN a blob is pushed THEN the upload starts again with a new session', async () => {
    // GIVEN
    let puts = 0;
    const registry = await startHostile((req, res) => {
      if (req.method === 'HEAD') return void res.writeHead(404).end();
      if (req.method === 'POST') return void res.writeHead(202, { location: `/v2/x/y/blobs/uploads/session-${puts + 1}` }).end();
      if (++puts === 1) return void req.socket.destroy();
      res.writeHead(201).end();
    });

    try {
      // WHEN
      const pushed = await new OciRegistry({ host: registry.host, retry: noWait }).pushBlob('x/y', Buffer.from('layer'));

      // THEN
      expect(pushed.size).toBe(5);
      expect(registry.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
        'HEAD /v2/x/y/blobs/' + sha256Digest(Buffer.from('layer')),
        'POST /v2/x/y/blobs/uploads/',
        'PUT /v2/x/y/blobs/uploads/session-1',
        'HEAD /v2/x/y/blobs/' + sha256Digest(Buffer.from('layer')),
        'POST /v2/x/y/blobs/uploads/',
        'PUT /v2/x/y/blobs/uploads/session-2',
      ]);
    } finally {
      await registry.stop();
    }
  });

  test('GIVEN a registry that drops every connection WHEN a manifest is read THEN it gives up after the retries with a RegistryConnectionError keeping the cause', async () => {
    // GIVEN
    const registry = await startHostile((req) => void req.socket.destroy());

    try {
      // WHEN
      const error = await failure(
        new OciRegistry({ host: registry.host, retry: { ...noWait, retries: 2 } } satisfies OciRegistryProps).getManifest('x/y', 'latest'),
      );

      // THEN
      expect(error).toBeInstanceOf(RegistryConnectionError);
      expect(error.message).toMatch(/cannot reach the registry at http:\/\/localhost:\d+ \(GET .*: UND_ERR_SOCKET\)/);
      expect(error.cause).toBeDefined();
      expect(registry.requests).toHaveLength(3);
    } finally {
      await registry.stop();
    }
  });
});
