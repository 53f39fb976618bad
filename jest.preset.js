// Shared jest settings: TypeScript through ts-jest (type checking is the
// `typecheck` target's job, so tests only transpile), tests under test/.
// Tests transpile with the base options (CommonJS, `node` resolution, as the build
// emits), not the package's tsconfig.json: that one type-checks with `node16`
// resolution, which honours `exports` but keeps `await import()` as a native import.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: require.resolve('./tsconfig.base.json'), diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // One temp folder per run, removed at its end (see scripts/jest/temp-dir-setup.js).
  globalSetup: require.resolve('./scripts/jest/temp-dir-setup.js'),
  globalTeardown: require.resolve('./scripts/jest/temp-dir-teardown.js'),
};
