/** Thrown for any bad catalogue input; the message names the value, where it is and the rule. */
export class CatalogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogError';
  }
}
