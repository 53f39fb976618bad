import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TamperingProxy {
  /** `localhost:<port>`. */
  readonly host: string;
  /** The `digest` of every blob upload completed through the proxy (`PUT …/blobs/uploads/…?digest=`), in order. */
  readonly completedUploads: readonly string[];
  /** Serve the bytes of this blob with their first byte flipped: as many bytes, another digest. */
  corruptBlob(digest: string): void;
  /** Answer cross-repository mounts (`POST …/blobs/uploads/?mount=…&from=…`) with a plain upload session, as a registry that cannot mount does. */
  refuseMounts(): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a real registry that lies about blobs on demand: it flips a
 * byte of one blob's content on the way out, and makes the registry open an upload
 * session instead of mounting, so that a client's copy path reads the lie. The `Host`
 * header is passed through, so the upload `Location`s the registry writes point at the
 * proxy. Everything else passes through unchanged.
 */
export async function startTamperingProxy(target: string): Promise<TamperingProxy> {
  const [targetHost, targetPort] = target.split(':');
  const corrupted = new Set<string>();
  const completed: string[] = [];
  let mounts = true;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    if (!mounts && req.method === 'POST' && url.pathname.endsWith('/blobs/uploads/') && url.searchParams.has('mount')) {
      url.searchParams.delete('mount');
      url.searchParams.delete('from');
    }
    if (req.method === 'PUT' && url.pathname.includes('/blobs/uploads/') && url.searchParams.has('digest')) completed.push(url.searchParams.get('digest')!);
    const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname)?.[1];
    const tamper = req.method === 'GET' && blob !== undefined && corrupted.has(blob);
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: `${url.pathname}${url.search}`, headers: req.headers },
      (answer) => {
        if (!tamper || (answer.statusCode !== 200 && answer.statusCode !== 206)) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          if (body.length > 0) body[0] ^= 0xff;
          res.writeHead(answer.statusCode!, answer.headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `localhost:${port}`,
    get completedUploads() {
      return [...completed];
    },
    corruptBlob(digest) {
      corrupted.add(digest);
    },
    refuseMounts() {
      mounts = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
