import { PageLimit } from '@devcontainer-factory/core';
import { DcfError, ExitCode } from '../dcf-error';

/** Most pages `dcf` reads of one AWS listing. */
export const MAX_LIST_PAGES = 1000;

/**
 * The page guard of one AWS listing of `dcf` (see `PageLimit`): a repeated
 * `nextToken` or more than {@link MAX_LIST_PAGES} pages end it with exit 3 instead
 * of reading forever. Call `visit(nextToken ?? '')` before each page.
 * @param what the listing, as the error names it: `listing ECR repositories`
 */
export function awsListingLimit(what: string, max = MAX_LIST_PAGES): PageLimit {
  return new PageLimit(max, {
    repeated: () => new DcfError(`${what}: AWS sent the same page token twice, so the listing would never end; try again`, ExitCode.Aws),
    tooMany: (_token, limit) =>
      new DcfError(`${what} runs past ${limit} pages, the limit dcf reads; narrow the namespace or clean up the repositories`, ExitCode.Aws),
  });
}
