/**
 * `nextToken`s of the front's paginated operations: the key of the last item of a
 * page (items are sorted by key), bound to the operation and repository it came from,
 * so that a page that follows starts after that item even when items came or went.
 */
import { invalidParameter } from './ecr-api-error';

interface TokenBody {
  readonly o: string;
  readonly s: string;
  readonly k: string;
}

export function pageToken(operation: string, scope: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ o: operation, s: scope, k: lastKey } satisfies TokenBody)).toString('base64url');
}

/** The key a `nextToken` continues after; an InvalidParameterException for a token of another operation or repository, or none of ours. */
export function pageAfter(operation: string, scope: string, token: string): string {
  let body: Partial<TokenBody>;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
  } catch {
    throw invalidParameter('nextToken', 'Invalid NextToken');
  }
  if (typeof body !== 'object' || body === null || body.o !== operation || body.s !== scope || typeof body.k !== 'string')
    throw invalidParameter('nextToken', 'Invalid NextToken');
  return body.k;
}

/** One page of `items` (sorted by `key`) after the key of `nextToken`, at most `max` long, and the token of the next page. */
export function pageOf<T>(
  items: readonly T[],
  key: (item: T) => string,
  max: number,
  operation: string,
  scope: string,
  nextToken: string | undefined,
): { page: T[]; nextToken?: string } {
  const after = nextToken === undefined ? undefined : pageAfter(operation, scope, nextToken);
  const start = after === undefined ? 0 : items.findIndex((item) => key(item) > after);
  const rest = start < 0 ? [] : items.slice(start);
  const page = rest.slice(0, max);
  return rest.length > max ? { page, nextToken: pageToken(operation, scope, key(page[page.length - 1])) } : { page };
}
