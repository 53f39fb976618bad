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

/** The constructor of a props error class (`ImagePipelinePropsError`, …). */
export type PropsErrorClass<E extends Error> = new (message: string, options?: { cause?: unknown }) => E;

/**
 * A props error named after the construct it was thrown for, `Team/Python: <message>`,
 * the path added once. Constructors throw their props errors without a path and pass
 * what they catch through this, so every package names the construct the same way.
 * Errors of the classes in `inputErrors` (core's checks of a prop, e.g. `InvalidNameError`
 * of an id) become `ErrorClass` with the path too; any other error passes unchanged.
 */
export function atConstructPath<E extends Error>(
  path: string,
  error: unknown,
  ErrorClass: PropsErrorClass<E>,
  inputErrors: readonly (abstract new (...args: never[]) => Error)[] = [],
): unknown {
  const ours = error instanceof ErrorClass || inputErrors.some((c) => error instanceof c);
  if (!ours || (error as Error).message.startsWith(`${path}: `)) return error;
  return new ErrorClass(`${path}: ${(error as Error).message}`, { cause: error });
}

/** A props error of the construct at `path`: `Team/Python: <message>`, as {@link atConstructPath} names it. */
export function propsError<E extends Error>(path: string, ErrorClass: PropsErrorClass<E>, message: string): E {
  return new ErrorClass(`${path}: ${message}`);
}
