/**
 * The CNCF distribution registry that holds the front's image data, over plain HTTP:
 * whole answers for manifests, tags and checks (with a deadline and a size cap), and
 * streamed requests for blobs (with an idle timeout), so that no layer is held in memory.
 */
import { Agent, request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { FactoryError } from '@devcontainer-factory/core';

/** The upstream registry did not answer, answered too slowly, or sent more than allowed. */
export class UpstreamError extends FactoryError {}

/** A whole answer of the upstream registry. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface UpstreamOptions {
  /** Deadline of a whole (buffered) exchange. */
  readonly timeoutMs: number;
  /** Longest a streamed exchange may go without a byte either way. */
  readonly idleTimeoutMs: number;
}

/** The body of an error answer kept to read its code; the rest is dropped. */
const ERROR_BODY_BYTES = 64 * 1024;

export class Upstream {
  readonly host: string;
  private readonly hostname: string;
  private readonly port: number;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });

  constructor(
    host: string,
    private readonly options: UpstreamOptions,
  ) {
    let url: URL;
    try {
      url = new URL(`http://${host}`);
    } catch (cause) {
      throw new UpstreamError(`the upstream registry must be given as host:port (e.g. localhost:5000), not ${JSON.stringify(host)}`, { cause });
    }
    if (url.pathname !== '/' || url.username || url.search)
      throw new UpstreamError(`the upstream registry must be given as host:port, not ${JSON.stringify(host)}`);
    this.host = url.host;
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || 80);
  }

  /** One exchange read whole: a 2xx body up to `maxBytes` (more is an {@link UpstreamError}), an error body cut at 64 KiB. */
  fetch(method: string, path: string, options: { headers?: OutgoingHttpHeaders; body?: Buffer; maxBytes: number }): Promise<UpstreamAnswer> {
    return new Promise<UpstreamAnswer>((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { ...options.headers };
      if (options.body) headers['content-length'] = String(options.body.length);
      const req = request({ hostname: this.hostname, port: this.port, method, path, headers, agent: this.agent });
      const timer = setTimeout(
        () =>
          req.destroy(new UpstreamError(`${method} ${path} on the upstream registry ${this.host} got no complete answer within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(
          error instanceof UpstreamError
            ? error
            : new UpstreamError(`${method} ${path} on the upstream registry ${this.host} failed: ${error.message}`, { cause: error }),
        );
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const ok = (res.statusCode ?? 500) >= 200 && (res.statusCode ?? 500) < 300;
        const cap = ok ? options.maxBytes : ERROR_BODY_BYTES;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size + chunk.length > cap) {
            if (ok) {
              req.destroy(new UpstreamError(`the answer to ${method} ${path} from the upstream registry ${this.host} is over ${cap} bytes`));
              return;
            }
            chunks.push(chunk.subarray(0, cap - size));
            size = cap;
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks, size) });
        });
      });
      req.end(options.body);
    });
  }

  /**
   * Opens a streamed exchange: the caller writes (or pipes) the request body into
   * `req` and reads the answer from `response`. The socket is closed when it idles
   * for longer than `idleTimeoutMs`.
   */
  open(method: string, path: string, headers: OutgoingHttpHeaders): { req: ClientRequest; response: Promise<IncomingMessage> } {
    const req = request({ hostname: this.hostname, port: this.port, method, path, headers, agent: this.agent });
    req.setTimeout(this.options.idleTimeoutMs, () =>
      req.destroy(new UpstreamError(`${method} ${path} on the upstream registry ${this.host} went ${this.options.idleTimeoutMs} ms without a byte`)),
    );
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', (error) =>
        reject(
          error instanceof UpstreamError
            ? error
            : new UpstreamError(`${method} ${path} on the upstream registry ${this.host} failed: ${error.message}`, { cause: error }),
        ),
      );
    });
    return { req, response };
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** The registry error codes of an error body (`{"errors": [{"code", "message", "detail"}]}`), empty when it has none. */
export function registryErrors(body: Buffer): { code: string; message: string; detail?: unknown }[] {
  try {
    const json = JSON.parse(body.toString('utf8')) as { errors?: unknown };
    if (!Array.isArray(json.errors)) return [];
    return json.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({ code: String(e.code ?? ''), message: String(e.message ?? ''), detail: e.detail }));
  } catch {
    return [];
  }
}
