/**
 * The base of every error devcontainer-factory throws. It keeps the error it wraps as
 * `cause` (ES2022 `ErrorOptions`) and is named after its class (`name` is the class
 * name of the error thrown, so subclasses need not set it; the Lambda bundles keep
 * class names when they minify).
 *
 * @example
 * try {
 *   readCatalogFile(file);
 * } catch (e) {
 *   if (e instanceof FactoryError) console.error(`${e.name}: ${e.message}`, e.cause);
 * }
 */
export class FactoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
