// Every test run gets a temp folder of its own: os.tmpdir() in the test workers points
// into it, so what a test (or a library it calls, such as the CDK's default cdk.out*
// folders of an App without an outdir) leaves behind is removed when the run ends.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcf-test-run-'));
  process.env.DCF_TEST_RUN_TMPDIR = dir;
  process.env.TMPDIR = dir;
};
