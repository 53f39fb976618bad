/**
 * Tokens the ECR front hands out and later takes back: the registry password of
 * `GetAuthorizationToken` (it names the principal) and the layer URLs of
 * `GetDownloadUrlForLayer` (they name a blob). Each is its JSON payload and an
 * HMAC-SHA256 of it under a key only this front knows, so a token cannot be made up
 * or altered, and each carries the time it expires.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Longest token accepted: a password or URL segment is a few hundred characters. */
const MAX_TOKEN_CHARS = 8192;

/** Why a token was refused. */
export type TokenProblem = 'malformed' | 'forged' | 'expired';

export class TokenSigner {
  private readonly key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.key = key;
  }

  /** `<base64url payload>.<base64url hmac>`; `expiresAt` is kept in the payload as `exp` (epoch ms). */
  sign(kind: string, payload: Record<string, string>, expiresAt: Date): string {
    const body = Buffer.from(JSON.stringify({ ...payload, kind, exp: expiresAt.getTime() })).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The payload of a token of `kind` that this signer made and that has not expired, or why not. */
  verify(kind: string, token: string, now: Date): { payload: Record<string, string> } | { problem: TokenProblem } {
    if (token.length > MAX_TOKEN_CHARS) return { problem: 'malformed' };
    const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
    if (!m) return { problem: 'malformed' };
    const expected = Buffer.from(this.mac(m[1]));
    const given = Buffer.from(m[2]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { problem: 'forged' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
    } catch {
      return { problem: 'malformed' };
    }
    const record = parsed as Record<string, unknown>;
    if (typeof record !== 'object' || record === null || record.kind !== kind || typeof record.exp !== 'number') return { problem: 'malformed' };
    if (now.getTime() >= record.exp) return { problem: 'expired' };
    const payload: Record<string, string> = {};
    for (const [key, value] of Object.entries(record)) if (typeof value === 'string' && key !== 'kind') payload[key] = value;
    return { payload };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
