import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the proxy fails a request. */
export type Fault = 'status-500' | 'reset';

export interface FaultyProxy {
  /** `localhost:<port>`. */
  readonly host: string;
  /** Manifest PUTs seen so far. */
  readonly manifestPuts: number;
  /** From the `n`-th manifest PUT on (1-based), fail every manifest PUT, as a registry that died midway would. */
  failManifestPutsFrom(n: number, fault: Fault): void;
  /** Pass everything through again. */
  heal(): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a real registry that fails manifest PUTs on demand
 * (HTTP 500, or the connection reset without an answer), to test releases that
 * fail midway. Everything else passes through unchanged.
 */
export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const [targetHost, targetPort] = target.split(':');
  let puts = 0;
  let failFrom: number | undefined;
  let fault: Fault = 'status-500';
  const server: Server = createServer((req, res) => {
    const isManifestPut = req.method === 'PUT' && /\/manifests\/[^/]+$/.test(req.url ?? '');
    if (isManifestPut) {
      puts++;
      if (failFrom !== undefined && puts >= failFrom) {
        req.resume();
        if (fault === 'reset') {
          req.socket.destroy();
        } else {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected failure' }] }));
        }
        return;
      }
    }
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...req.headers, host: target } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `localhost:${port}`,
    get manifestPuts() {
      return puts;
    },
    failManifestPutsFrom(n, f) {
      failFrom = n;
      fault = f;
    },
    heal() {
      failFrom = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
