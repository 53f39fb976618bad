import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG_FEATURE_KEYS, CATALOG_IMAGE_KEYS, CatalogError, parseCatalogText, readCatalogFile } from '../../src/catalog';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcf-catalog-approval-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('approval in the catalogue', () => {
  test('GIVEN approval: true on an image and a feature WHEN read THEN both entries keep it, and entries without it have no key', () => {
    const path = join(dir, 'catalog.yaml');
    writeFileSync(
      path,
      [
        'images:',
        '  - base',
        '  - id: python',
        '    approval: true',
        '  - id: node',
        '    approval: false',
        'features:',
        '  - id: hello',
        '    approval: true',
      ].join('\n'),
    );
    expect(readCatalogFile(path)).toEqual({
      images: [{ id: 'base' }, { id: 'python', approval: true }, { id: 'node', approval: false }],
      features: [{ id: 'hello', approval: true }],
    });
  });

  test('GIVEN JSON WHEN read THEN approval is read the same way', () => {
    expect(parseCatalogText(JSON.stringify({ images: [{ id: 'go', approval: true }] }), 'catalog.json').images).toEqual([{ id: 'go', approval: true }]);
  });

  test('approval is a key of image and feature entries', () => {
    expect(CATALOG_IMAGE_KEYS).toContain('approval');
    expect(CATALOG_FEATURE_KEYS).toContain('approval');
  });

  test.each<[string, string, RegExp]>([
    // YAML 1.2: `yes` is a string, not true.
    [
      'an image with approval: yes',
      'images:\n  - base\n  - id: python\n    approval: yes',
      /'approval' of image 'python' \(images\[1\] in \S+catalog-bad\.yaml\) must be true or false, got "yes": write approval: true for a manual approval before Release, or leave it out/,
    ],
    [
      'an image with a quoted "true"',
      'images: [{id: python, approval: "true"}]',
      /'approval' of image 'python' \(images\[0\] in \S+\) must be true or false, got "true"/,
    ],
    [
      'a feature with approval: 1',
      'features: [{id: hello, approval: 1}]',
      /'approval' of feature 'hello' \(features\[0\] in \S+\) must be true or false, got 1: write approval: true for a manual approval before Publish/,
    ],
    [
      'an image with approval as a mapping',
      'images: [{id: python, approval: {notify: x}}]',
      /'approval' of image 'python' .* must be true or false, got \{"notify":"x"\}/,
    ],
  ])('GIVEN %s WHEN read THEN a CatalogError names the entry, the file and what to write', (_what, text, message) => {
    const path = join(dir, 'catalog-bad.yaml');
    writeFileSync(path, text);
    expect(() => readCatalogFile(path)).toThrow(CatalogError);
    expect(() => readCatalogFile(path)).toThrow(message);
  });

  test('GIVEN a misspelt key WHEN read THEN the error lists approval among the allowed keys', () => {
    expect(() => parseCatalogText('images: [{id: python, aproval: true}]', 'catalog.yaml')).toThrow(
      /unknown key 'aproval' in images\[0\] in catalog\.yaml: allowed keys are .*approval/,
    );
  });
});
