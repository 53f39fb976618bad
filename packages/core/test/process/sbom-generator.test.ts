/** The SBOM generator's pins: one version and one integrity per architecture, which the CLI's dependencies and the lockfile must follow. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SBOM_PLUGINS_INTEGRITY, SBOM_PLUGINS_VERSION, SbomGeneratorError, integritySha512Hex, sbomPluginsPackage, trivyRootfsArguments } from '../../src';

const ROOT = join(__dirname, '../../../..');

test('the CLI depends on exactly the pinned plugins version, and the lockfile resolves each to the pinned integrity', () => {
  // GIVEN
  const cli = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
  const lock = readFileSync(join(ROOT, 'pnpm-lock.yaml'), 'utf8');

  for (const arch of ['amd64', 'arm64'] as const) {
    // THEN
    expect(cli.optionalDependencies[sbomPluginsPackage(arch)]).toBe(SBOM_PLUGINS_VERSION);
    const entry = new RegExp(
      `'${sbomPluginsPackage(arch)}@${SBOM_PLUGINS_VERSION.replace(/\./g, '\\.')}':\\n\\s+resolution: \\{integrity: (sha512-[^}]+)\\}`,
    ).exec(lock);
    expect(entry?.[1]).toBe(SBOM_PLUGINS_INTEGRITY[arch]);
  }
});

test('integritySha512Hex gives the hex digest sha512sum prints, and refuses what is not an npm sha512 integrity', () => {
  // GIVEN
  const bytes = Buffer.from('a tarball');
  const integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

  // THEN
  expect(integritySha512Hex(integrity)).toBe(createHash('sha512').update(bytes).digest('hex'));
  expect(() => integritySha512Hex('sha1-abc')).toThrow(SbomGeneratorError);
  expect(() => integritySha512Hex(`sha512-${'A'.repeat(10)}`)).toThrow('is not an npm sha512 integrity string');
});

test('Trivy runs offline on the root file system, with no vulnerability database', () => {
  expect(trivyRootfsArguments('/r', '/o.json', '/c')).toEqual([
    'rootfs',
    '--format',
    'cyclonedx',
    '--offline-scan',
    '--skip-db-update',
    '--skip-java-db-update',
    '--quiet',
    '--cache-dir',
    '/c',
    '--output',
    '/o.json',
    '/r',
  ]);
});
