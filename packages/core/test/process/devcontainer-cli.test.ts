/** The devcontainer CLI's pins: the version the workspace tests with and the integrity CodeBuild checks its tarball against. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVCONTAINER_CLI_INTEGRITY, DEVCONTAINER_CLI_PACKAGE, DEVCONTAINER_CLI_VERSION, integritySha512Hex } from '../../src';

const ROOT = join(__dirname, '../../../..');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('the workspace depends on exactly the pinned version, and the lockfile resolves it to the pinned integrity with no dependencies', () => {
  // GIVEN
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const lock = readFileSync(join(ROOT, 'pnpm-lock.yaml'), 'utf8');
  const key = `'${escape(DEVCONTAINER_CLI_PACKAGE)}@${escape(DEVCONTAINER_CLI_VERSION)}'`;

  // THEN the tests run the CLI that CodeBuild installs
  expect(root.devDependencies[DEVCONTAINER_CLI_PACKAGE]).toBe(DEVCONTAINER_CLI_VERSION);
  // and the registry's integrity of that version (the lockfile's, as pnpm checked it on install) is the one pinned
  const resolution = new RegExp(`\\n  ${key}:\\n\\s+resolution: \\{integrity: (sha512-[^}]+)\\}`).exec(lock);
  expect(resolution?.[1]).toBe(DEVCONTAINER_CLI_INTEGRITY);
  // and the tarball is all there is to install: no dependency would come unpinned from the registry
  expect(lock).toMatch(new RegExp(`\\n  ${key}: \\{\\}\\n`));
  expect(integritySha512Hex(DEVCONTAINER_CLI_INTEGRITY)).toMatch(/^[0-9a-f]{128}$/);
});
