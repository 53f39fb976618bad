/**
 * The HTTP side of the OCI endpoint: which request a path is, errors in the shape of the
 * distribution spec, a bounded read of a manifest a client PUTs, and forwarding to the
 * upstream registry with bodies streamed both ways.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { FactoryError } from '@devcontainer-factory/core';
import type { Upstream } from './upstream';

/** A request to the OCI endpoint, by what it is about (names and references still percent-encoded). */
export type OciRoute =
  | { kind: 'base' }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; session: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string }
  | { kind: 'catalog' }
  | { kind: 'unknown' };

export function parseRoute(path: string): OciRoute {
  if (path === '/v2/' || path === '/v2') return { kind: 'base' };
  if (path === '/v2/_catalog') return { kind: 'catalog' };
  let m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
  if (m) return { kind: 'manifest', name: m[1], reference: m[2] };
  m = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(path);
  if (m) return { kind: 'uploads', name: m[1] };
  m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(path);
  if (m) return { kind: 'upload', name: m[1], session: m[2] };
  m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path);
  if (m) return { kind: 'blob', name: m[1], digest: m[2] };
  m = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (m) return { kind: 'tags', name: m[1] };
  m = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(path);
  if (m) return { kind: 'referrers', name: m[1], digest: m[2] };
  return { kind: 'unknown' };
}

/** A path segment decoded; undefined when its percent-encoding is broken. */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Answers `{"errors": [{"code", "message"}]}` (no body to a HEAD). */
export function sendOciError(res: ServerResponse, status: number, code: string, message: string, headers: OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'docker-distribution-api-version': 'registry/2.0',
    ...headers,
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/** A request body that did not arrive within its deadline. */
export class RequestBodyTimeoutError extends FactoryError {}

/**
 * A request body read whole, at most `max` bytes within `timeoutMs`; a longer one is
 * answered 413 SIZE_INVALID here (and undefined returned), a slow one destroys the request.
 */
export async function readBoundedBody(req: IncomingMessage, res: ServerResponse, max: number, timeoutMs: number): Promise<Buffer | undefined> {
  const tooLarge = () => {
    req.resume();
    sendOciError(res, 413, 'SIZE_INVALID', `the manifest is over ${max} bytes, ECR's limit`);
    return undefined;
  };
  if (Number(req.headers['content-length'] ?? 0) > max) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => req.destroy(new RequestBodyTimeoutError(`the request body was not sent within ${timeoutMs} ms`)), timeoutMs);
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > max) return tooLarge();
      chunks.push(chunk as Buffer);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks, size);
}

/** Request headers that go on to the upstream registry (never the client's credentials). */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'content-length', 'content-range', 'range', 'if-none-match', 'if-match'];
/** Answer headers of the upstream registry that do not come back (hop by hop). */
const DROPPED_ANSWER_HEADERS = ['connection', 'keep-alive', 'transfer-encoding', 'date'];

/**
 * Forwards a request to the upstream registry and its answer back, bodies streamed both
 * ways (nothing is held in memory); a `Location` on the upstream registry is pointed at
 * `origin`, where the client reached the front. A client that goes away ends the exchange.
 */
export async function forwardToUpstream(
  upstream: Upstream,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
  origin: string,
): Promise<void> {
  const headers: OutgoingHttpHeaders = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const withBody = method === 'POST' || method === 'PATCH' || method === 'PUT';
  if (withBody && headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) headers['content-length'] = '0';
  const { req: upstreamReq, response } = upstream.open(method, path, headers);
  // A request body that breaks off (client gone, upstream gone) ends the exchange; the answer's failure is what is reported.
  const sent = (withBody ? pipeline(req, upstreamReq) : (upstreamReq.end(), Promise.resolve())).catch((e: unknown) => void upstreamReq.destroy(e as Error));
  const answer = await response;
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined || DROPPED_ANSWER_HEADERS.includes(name)) continue;
    out[name] = name === 'location' ? pointAt(String(value), upstream.host, origin) : value;
  }
  res.writeHead(answer.statusCode ?? 502, out);
  res.on('close', () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });
  await Promise.all([sent, pipeline(answer, res)]);
}

/** A URL on `host` moved to `origin`; any other URL as it was. */
function pointAt(location: string, host: string, origin: string): string {
  let url: URL;
  try {
    url = new URL(location, `http://${host}`);
  } catch {
    return location;
  }
  return url.host === host ? `${origin}${url.pathname}${url.search}` : location;
}
