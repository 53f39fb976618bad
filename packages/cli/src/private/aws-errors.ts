/**
 * Turns AWS SDK failures into user errors that say what to do: sign in, pick a
 * region, ask for a permission, check the network.
 */
import { DcfError, ExitCode } from '../dcf-error';

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** The error's name as the SDK sets it (`AccessDenied`, `CredentialsProviderError`, …). */
export function errorName(e: unknown): string {
  const err = e as SdkError;
  return err?.name ?? err?.code ?? 'Error';
}

export function httpStatus(e: unknown): number | undefined {
  return (e as SdkError)?.$metadata?.httpStatusCode;
}

const NETWORK_CODES = /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

/** The network error code of a failure (the SDK wraps it: "AWS SDK error wrapper for Error: connect ECONNREFUSED …"). */
function networkCode(e: unknown): string | undefined {
  for (let err = e as (SdkError & { cause?: unknown }) | undefined, depth = 0; err && depth < 5; err = err.cause as typeof err, depth++) {
    const match = NETWORK_CODES.exec(`${err.code ?? ''} ${err.message ?? ''}`);
    if (match) return match[1];
  }
  return undefined;
}

/** Whether AWS refused the call for want of a permission (or an explicit deny). */
export function isAccessDenied(e: unknown): boolean {
  return /AccessDenied|UnauthorizedOperation|Forbidden/.test(errorName(e)) || httpStatus(e) === 403;
}

/** What a denial tells the user to do, unless the call knows better (see {@link awsError}). */
export const ACCESS_DENIED_ADVICE = 'use a role that may do this, or ask the platform team for access';

/**
 * A user error for a failed AWS call.
 * @param doing what dcf was doing, e.g. "reading the factory's SSM parameters"
 * @param deniedAdvice what to do when AWS denied it (default {@link ACCESS_DENIED_ADVICE})
 */
export function awsError(e: unknown, doing: string, deniedAdvice = ACCESS_DENIED_ADVICE): DcfError {
  if (e instanceof DcfError) return e;
  const name = errorName(e);
  const message = (e as SdkError)?.message ?? String(e);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new DcfError(
      `no AWS credentials while ${doing}: sign in (e.g. "aws sso login --profile <name>"), then set AWS_PROFILE or pass --profile; or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      ExitCode.Aws,
      { cause: e },
    );
  }
  if (/Region is missing/i.test(message)) {
    return new DcfError(`no AWS region while ${doing}: set AWS_REGION, give your profile a region, or pass --region`, ExitCode.Aws, { cause: e });
  }
  if (/ExpiredToken|TokenRefreshRequired|ExpiredTokenException/.test(name) || /token.*expired/i.test(message)) {
    return new DcfError(`your AWS session expired while ${doing}: sign in again (e.g. "aws sso login")`, ExitCode.Aws, { cause: e });
  }
  if (isAccessDenied(e)) {
    return new DcfError(`AWS denied access while ${doing} (${name}: ${message}): ${deniedAdvice}`, ExitCode.Aws, { cause: e });
  }
  if (/UnrecognizedClient|InvalidClientTokenId|InvalidAccessKeyId|SignatureDoesNotMatch|InvalidSignature/.test(name)) {
    return new DcfError(`AWS rejected your credentials while ${doing} (${name}): check AWS_PROFILE / --profile and sign in again`, ExitCode.Aws, { cause: e });
  }
  const network = networkCode(e);
  if (network) {
    return new DcfError(`cannot reach AWS while ${doing} (${network}): check your network, proxy and any AWS_ENDPOINT_URL* setting`, ExitCode.Aws, {
      cause: e,
    });
  }
  return new DcfError(`AWS failed while ${doing}: ${name}: ${message}`, ExitCode.Aws, { cause: e });
}

/** Runs an AWS call and turns its failure into a user error (see {@link awsError}). */
export async function aws<T>(doing: string, call: () => Promise<T>, deniedAdvice?: string): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw awsError(e, doing, deniedAdvice);
  }
}
