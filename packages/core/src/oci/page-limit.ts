/**
 * The guard of one paginated listing (OCI `tags/list` Links, ECR and other AWS
 * `nextToken`s): every page is named by a key (its URL, or its token, `''` for the
 * first), a key seen before means the listing loops, and at most `max` pages are read.
 * The caller words the errors, so each listing says what it was and how to go on.
 */
export class PageLimit {
  private readonly seen = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly errors: {
      /** The page `key` was read before: `pages` pages have been read. */
      readonly repeated: (key: string, pages: number) => Error;
      /** `max` pages have been read and the listing goes on with `key`. */
      readonly tooMany: (key: string, max: number) => Error;
    },
  ) {}

  /** Call before reading the page named `key`; throws the caller's error when the listing loops or is too long. */
  visit(key: string): void {
    if (this.seen.has(key)) throw this.errors.repeated(key, this.seen.size);
    if (this.seen.size >= this.max) throw this.errors.tooMany(key, this.max);
    this.seen.add(key);
  }
}
