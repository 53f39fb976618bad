// Mutation testing of core's rules that carry the factory's guarantees: release and refresh,
// the version guard, retention, the vulnerability gate and scan states, the build id and the
// input record, semver, and the safety of archive paths. `pnpm --filter @devcontainer-factory/core mutation`
// (part of the README's test command) prints the score of each module and fails under the floor.
// Incremental: results of unchanged code and tests are reused from the committed
// stryker-incremental.json, so a run after a small change is quick.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'pnpm',
  testRunner: 'jest',
  // pnpm keeps each package's dependencies apart: name the runner, as Stryker's search of node_modules does not find it.
  plugins: ['@stryker-mutator/jest-runner'],
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/image/release.ts',
    'src/image/retention.ts',
    'src/image/release-tags.ts',
    'src/image/image-build-id.ts',
    'src/image/input-record.ts',
    'src/semver.ts',
    'src/supply-chain/scan-gate.ts',
    'src/supply-chain/vulnerability-gate.ts',
    'src/archive/safe-path.ts',
    'src/archive/path-clash.ts',
  ],
  // A static mutant (a module-level constant) would run every test for each: left out, and counted as ignored.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'stryker-incremental.json',
  reporters: ['clear-text', 'progress-append-only'],
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  concurrency: 2,
  timeoutMS: 20000,
  // The floor is the score of the first run (54.57%, 2026-12-04): raise it as survivors are killed.
  thresholds: { high: 90, low: 75, break: 54 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
