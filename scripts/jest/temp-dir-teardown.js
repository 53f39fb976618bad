// Removes the run's temp folder made by temp-dir-setup.js.
const { rmSync } = require('node:fs');

module.exports = async () => {
  const dir = process.env.DCF_TEST_RUN_TMPDIR;
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
};
