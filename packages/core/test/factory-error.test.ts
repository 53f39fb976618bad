import * as core from '../src';
import { CatalogError, FactoryError, atConstructPath, propsError } from '../src';

// Every error the package exports is a FactoryError: it keeps the error it wraps as
// `cause` and is named after its class, so logs and `dcf --verbose` show both.

type ErrorClass = new (...args: never[]) => Error;

/** The exported classes whose instances are errors. */
const errorClasses: Array<[string, ErrorClass]> = Object.entries(core)
  .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
  .map(([name, value]) => [name, value as ErrorClass]);

/**
 * Constructor arguments for the classes that take more than `(message, options)`;
 * `cause` goes where the class takes it.
 */
const ARGUMENTS: Readonly<Record<string, (cause: unknown) => unknown[]>> = {
  InvalidConfigurationError: (cause) => [[{ file: 'devcontainer.json', message: 'is not JSON' }], { cause }],
  UnsafeArchiveError: (cause) => [[{ file: '../x', message: 'leaves the folder' }], { cause }],
  VulnerabilityGateError: (cause) => [
    'python',
    [{ platform: 'linux/amd64', blocking: [{ id: 'CVE-2024-1', severity: 'CRITICAL', packages: [] }], allowed: [], expired: [], counts: { CRITICAL: 1 } }],
    { cause },
  ],
  CommandFailedError: (cause) => ['buildah failed', 125, 'output', { cause }],
  DevcontainerCliError: (cause) => ['devcontainer failed', 1, 'output', { cause }],
  FeatureTagRaceError: (cause) => ['localhost:5000/ns/features/hello', '1', 'sha256:a', 'sha256:b', ['1 -> sha256:b'], ['1', '1.0', '1.0.0'], { cause }],
  FeatureVersionConflictError: (cause) => [
    { registry: 'localhost:5000', repository: 'ns/features/hello', version: '1.0.0', differences: ['install.sh changed'], suggestedVersion: '1.0.1' },
    { cause },
  ],
  RegistryHttpError: (cause) => ['GET failed', 500, 'UNKNOWN', { cause }],
  RegistryTimeoutError: (cause) => ['GET timed out', 'http://localhost:5000/v2/', 1000, { cause }],
  RegistryResponseError: (cause) => ['too large', 'http://localhost:5000/v2/', { cause }],
  RegistryOriginError: (cause) => ['other origin', 'http://elsewhere/v2/', { cause }],
  RetentionIncompleteError: (cause) => ['localhost:5000/ns/images/python', ['sha256:a'], ['sha256:b'], { cause }],
  RetentionUnsupportedError: (cause) => ['localhost:5000', { cause }],
  ReleaseLockTimeoutError: (cause) => ['localhost:5000/ns/images/python', '/tmp/lock', 'pid 1', 60_000, { cause }],
  VersionConflictError: (cause) => ['1.2.3', 'sha256:a', 'sha256:b', { cause }],
  ReleaseRaceError: (cause) => ['localhost:5000/ns/images/python', 'latest', 'sha256:a', 'sha256:b', ['1.2.3'], { cause }],
  ReleaseIncompleteError: (cause) => ['localhost:5000/ns/images/python', 'sha256:a', ['1.2.3'], ['latest'], { cause }],
  RegistryBinaryMissingError: (cause) => ['/usr/bin/docker-registry', { cause }],
  BlobMismatchError: (cause) => [
    'bytes differ',
    { repository: 'ns/builds/python', digest: 'sha256:a', expectedSize: 2, actualDigest: 'sha256:b', actualSize: 2 },
    { cause },
  ],
  ScanFindingsShapeError: (cause) => ['ns/builds/python@sha256:a (linux/amd64)', 'imageScanFindings', 'an object', 'text', { cause }],
};

function construct(name: string, cls: ErrorClass, cause: unknown): Error {
  const args = ARGUMENTS[name]?.(cause) ?? ['something went wrong', { cause }];
  return Reflect.construct(cls, args) as Error;
}

test('the package exports its error classes, FactoryError among them', () => {
  const names = errorClasses.map(([name]) => name);
  expect(names).toContain('FactoryError');
  expect(names).toEqual(expect.arrayContaining(['CatalogError', 'RegistryError', 'ReleaseError', 'InvalidConfigurationError', 'UnsafeArchiveError']));
  expect(names.length).toBeGreaterThan(25);
});

describe.each(errorClasses)('%s', (name, cls) => {
  test('is a FactoryError named after its class that keeps its cause', () => {
    // GIVEN an error to wrap
    const cause = new Error('the underlying failure');

    // WHEN
    const error = construct(name, cls, cause);

    // THEN
    expect(error).toBeInstanceOf(FactoryError);
    expect(error).toBeInstanceOf(cls);
    expect(error.name).toBe(name);
    expect(error.cause).toBe(cause);
    expect(error.message).not.toBe('');
    expect(error.stack).toContain(name);
  });
});

test('an error with no cause has none', () => {
  const error = new CatalogError('bad catalogue');

  expect('cause' in error).toBe(false);
  expect(error.name).toBe('CatalogError');
});

test('a subclass declared elsewhere is named after itself without setting name', () => {
  // GIVEN a subclass that sets no name, as the CLI's and the Lambdas' errors do
  class LocalThingError extends CatalogError {}

  // WHEN
  const error = new LocalThingError('bad', { cause: 'why' });

  // THEN
  expect(error.name).toBe('LocalThingError');
  expect(error).toBeInstanceOf(CatalogError);
  expect(error.cause).toBe('why');
});

describe('props errors at a construct path', () => {
  class DemoPropsError extends FactoryError {}

  test('the path is added once, and the error it came from is its cause', () => {
    const first = atConstructPath('Team/Python', new DemoPropsError('platforms must not be empty'), DemoPropsError) as DemoPropsError;
    expect(first).toBeInstanceOf(DemoPropsError);
    expect(first.message).toBe('Team/Python: platforms must not be empty');
    expect((first.cause as Error).message).toBe('platforms must not be empty');
    expect(atConstructPath('Team/Python', first, DemoPropsError)).toBe(first);
    expect(propsError('Team/Python', DemoPropsError, 'grantApprove: no approval').message).toBe('Team/Python: grantApprove: no approval');
  });

  test('other errors pass unchanged', () => {
    const other = new RangeError('not a props error');
    expect(atConstructPath('Team/Python', other, DemoPropsError)).toBe(other);
  });
});
