/**
 * The credentials the rehearsal hands out: one key pair per principal (a role a Lambda,
 * a CodeBuild project or CodePipeline assumes, or the person running `dcf`), so that the
 * gateway knows who signed each request from the access key id in its SigV4
 * `Authorization` header, as AWS knows it from the session.
 */
import { createHash } from 'node:crypto';

export interface RehearsalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** Who holds the keys: a role ARN (or a user ARN for a person). */
export class CredentialBook {
  private readonly byKey = new Map<string, string>();
  private readonly byPrincipal = new Map<string, RehearsalCredentials>();

  /** The keys of `principal` (the same ones every time). */
  issue(principal: string): RehearsalCredentials {
    const known = this.byPrincipal.get(principal);
    if (known) return known;
    const hash = createHash('sha256').update(principal).digest('hex').toUpperCase();
    const credentials = { accessKeyId: `ASIA${hash.slice(0, 16)}`, secretAccessKey: hash.slice(16, 56), sessionToken: `rehearsal-${hash.slice(0, 32)}` };
    this.byKey.set(credentials.accessKeyId, principal);
    this.byPrincipal.set(principal, credentials);
    return credentials;
  }

  /** The principal that holds `accessKeyId`; undefined for keys the rehearsal never handed out. */
  principalOf(accessKeyId: string): string | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** The environment variables that make the AWS SDK and CLI sign as `principal`. */
  environment(principal: string): Record<string, string> {
    const c = this.issue(principal);
    return { AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey, AWS_SESSION_TOKEN: c.sessionToken };
  }
}

/** The access key id, service and region of a SigV4 `Authorization` header; undefined when it is not one. */
export function signatureScope(authorization: string | undefined): { accessKeyId: string; region: string; service: string } | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return m ? { accessKeyId: m[1], region: m[2], service: m[3] } : undefined;
}
