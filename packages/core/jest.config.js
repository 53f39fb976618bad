// Core's tests share the workspace's test helpers (@devcontainer-factory/testing), which
// import core by its name: here both resolve to the sources under test, so the helpers
// and the tests use one copy of every class.
module.exports = {
  ...require('../../jest.preset.js'),
  moduleNameMapper: {
    '^@devcontainer-factory/core$': '<rootDir>/src/index.ts',
    '^@devcontainer-factory/testing$': '<rootDir>/../testing/src/index.ts',
  },
};
