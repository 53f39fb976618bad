import { DcfError, ExitCode } from '../dcf-error';

/** Most pages `dcf` reads of one AWS listing. */
export const MAX_LIST_PAGES = 1000;

/**
 * The pages of one AWS listing: hands on each `nextToken`, and stops a listing whose
 * token repeats (a loop) or that runs past `max` pages with a clear error instead of
 * reading forever.
 */
export class PageLimit {
  private readonly seen = new Set<string>();

  /** @param what the listing, as the error names it: `listing ECR repositories` */
  constructor(
    private readonly what: string,
    private readonly max = MAX_LIST_PAGES,
  ) {}

  /** The token to ask for next, or undefined when the listing is complete. */
  next(token: string | undefined): string | undefined {
    if (!token) return undefined;
    if (this.seen.has(token)) throw new DcfError(`${this.what}: AWS sent the same page token twice, so the listing would never end; try again`, ExitCode.Aws);
    this.seen.add(token);
    if (this.seen.size >= this.max) throw new DcfError(`${this.what} runs past ${this.max} pages, the limit dcf reads; narrow the namespace or clean up the repositories`, ExitCode.Aws);
    return token;
  }
}
