// The tests StrykerJS runs against each mutant of the modules that carry the guarantees
// (see stryker.config.mjs): the unit tests of those modules, which need no registry or
// child process, so that a mutant is judged in milliseconds. The integration tests still
// run in `nx test core`; the surviving mutants they would kill are listed in MUTATION.md.
// Stryker runs it in a copy of this folder (.stryker-tmp/sandbox-*/): the workspace's preset and
// the testing package are found from the real folder, the sources under test in the copy.
const { join, resolve } = require('node:path');

const real = __dirname.includes(`${require('node:path').sep}.stryker-tmp${require('node:path').sep}`) ? resolve(__dirname, '..', '..') : __dirname;

// The property tests read it to run fewer random cases per mutant.
process.env.DCF_MUTATION_RUN = '1';

module.exports = {
  ...require(join(real, '..', '..', 'jest.preset.js')),
  moduleNameMapper: {
    '^@devcontainer-factory/core$': '<rootDir>/src/index.ts',
    '^@devcontainer-factory/testing$': join(real, '..', 'testing', 'src', 'index.ts'),
  },
  testMatch: [
    '**/test/image/release.test.ts',
    '**/test/image/release-tags.test.ts',
    '**/test/image/release-verify.test.ts',
    '**/test/image/retention-tags.test.ts',
    '**/test/image/image-build-id.test.ts',
    '**/test/image/input-record.test.ts',
    '**/test/image/build-inputs.test.ts',
    '**/test/semver.test.ts',
    '**/test/supply-chain/scan-gate.test.ts',
    '**/test/supply-chain/vulnerability-gate.test.ts',
    '**/test/archive/entry-names.test.ts',
    '**/test/archive/zip.test.ts',
    '**/test/archive/collect-files.test.ts',
  ],
};
