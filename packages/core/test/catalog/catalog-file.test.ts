import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogError, readCatalogFile } from '../../src/catalog';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcf-catalog-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `catalog-${++count}.${ext}`);
  writeFileSync(path, text);
  return path;
}

describe('readCatalogFile', () => {
  test('GIVEN YAML with bare ids and settings WHEN read THEN entries keep only the keys that were set', () => {
    const path = file(
      [
        'namespace: team',
        'images:',
        '  - base',
        '  - id: python',
        '    platforms: [linux/arm64]',
        '    computeSize: xlarge',
        '    dependsOn: [base]',
        '    releaseTags: [latest, date]',
        '    keepDateTags: 5',
        'features:',
        '  - hello',
        '  - id: world',
        '    computeSize: large',
      ].join('\n'),
    );
    expect(readCatalogFile(path)).toEqual({
      namespace: 'team',
      images: [
        { id: 'base' },
        { id: 'python', platforms: ['linux/arm64'], computeSize: 'xlarge', dependsOn: ['base'], releaseTags: ['latest', 'date'], keepDateTags: 5 },
      ],
      features: [{ id: 'hello' }, { id: 'world', computeSize: 'large' }],
    });
  });

  test('GIVEN JSON WHEN read THEN the same entries, without a namespace when none is named', () => {
    const path = file(JSON.stringify({ images: ['go', { id: 'rust', computeSize: 'small' }] }), 'json');
    expect(readCatalogFile(path)).toEqual({ images: [{ id: 'go' }, { id: 'rust', computeSize: 'small' }], features: [] });
  });

  test('GIVEN an empty file WHEN read THEN an empty catalogue', () => {
    expect(readCatalogFile(file(''))).toEqual({ images: [], features: [] });
  });

  test('GIVEN dependsOn naming an image the file lacks WHEN read THEN it is accepted (checked once the whole catalogue is known)', () => {
    expect(readCatalogFile(file('images: [{id: app, dependsOn: [base]}]')).images).toEqual([{ id: 'app', dependsOn: ['base'] }]);
  });

  test.each(['daily', 'weekly', 'off'])('GIVEN refresh: %s WHEN read THEN the entry keeps it', (refresh) => {
    expect(readCatalogFile(file(`images: [{id: app, refresh: ${refresh}}]`)).images).toEqual([{ id: 'app', refresh }]);
  });

  test('GIVEN usesFeatures WHEN read THEN the entry keeps them in order, unchecked against the features until the whole catalogue is known', () => {
    expect(readCatalogFile(file('images: [{id: app, usesFeatures: [hello, world]}, {id: bare, usesFeatures: []}]')).images).toEqual([
      { id: 'app', usesFeatures: ['hello', 'world'] },
      { id: 'bare', usesFeatures: [] },
    ]);
  });

  test('GIVEN an image without refresh or usesFeatures WHEN read THEN the entry has neither key (the defaults apply later)', () => {
    expect(readCatalogFile(file('images: [{id: app}]')).images[0]).toEqual({ id: 'app' });
  });

  test.each<[string, string, string]>([
    ['an unknown refresh', 'images: [{id: a, refresh: monthly}]', `'refresh' of image 'a' is "monthly": use one of daily, weekly, off`],
    ['a refresh that is not a string', 'images: [{id: a, refresh: 7}]', `'refresh' of image 'a' is 7: use one of daily, weekly, off`],
    ['usesFeatures that is not a list', 'images: [{id: a, usesFeatures: hello}]', `'usesFeatures' of image 'a' must be a list, got "hello"`],
    [
      'a usesFeatures entry that is not a string',
      'images: [{id: a, usesFeatures: [{id: hello}]}]',
      `'usesFeatures' of image 'a' must be a string, got {"id":"hello"}`,
    ],
    ['a feature used twice', 'images: [{id: a, usesFeatures: [hello, hello]}]', `'usesFeatures' of image 'a' lists 'hello' twice`],
  ])('GIVEN %s WHEN read THEN the CatalogError is exactly the rule', (_what, text, message) => {
    const path = file(text);
    let error: unknown;
    try {
      readCatalogFile(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as Error).message).toBe(message);
  });

  test.each<[string, string, RegExp]>([
    ['an invalid id', 'images: [Python]', /image id 'Python' is invalid.*try 'python'.*Fix it in the catalogue file /],
    ['an invalid feature id', 'features: [{id: hello.world}]', /feature id 'hello.world' is invalid/],
    ['a duplicate image', 'images: [a, {id: a}]', /duplicate image id 'a' in the catalogue file .*: list each image once/],
    ['a duplicate feature', 'features: [hello, hello]', /duplicate feature id 'hello' in the catalogue file/],
    ['an unknown top-level key', 'imagez: [a]', /unknown key 'imagez' in catalogue file .*: allowed keys are namespace, images, features/],
    [
      'an unknown image key',
      'images: [{id: a, platform: [linux/amd64]}]',
      /unknown key 'platform' in images\[0\] in .*: allowed keys are id, platforms, computeSize, dependsOn, releaseTags, keepDateTags, refresh, usesFeatures/,
    ],
    ['an unknown feature key', 'features: [{id: hello, version: 1}]', /unknown key 'version' in features\[0\] in .*: allowed keys are id, computeSize/],
    ['an entry without an id', 'images: [{computeSize: small}]', /images\[0\] in .* has no 'id'/],
    ['an entry that is a number', 'features: [7]', /features\[0\] in .* must be a feature id or a mapping with an 'id', got 7/],
    ['an unknown platform', 'images: [{id: a, platforms: [linux/s390x]}]', /'platforms' of image 'a' is "linux\/s390x": use one of linux\/amd64, linux\/arm64/],
    ['a platform listed twice', 'images: [{id: a, platforms: [linux/amd64, linux/amd64]}]', /'platforms' of image 'a' lists 'linux\/amd64' twice/],
    ['keepDateTags of 0', 'images: [{id: a, keepDateTags: 0}]', /'keepDateTags' of image 'a' must be a whole number from 1 to 10000, got 0/],
    [
      'keepDateTags that is not a whole number',
      'images: [{id: a, keepDateTags: "ten"}]',
      /'keepDateTags' of image 'a' must be a whole number from 1 to 10000, got "ten"/,
    ],
    [
      'an empty release tag list',
      'images: [{id: a, releaseTags: []}]',
      /'releaseTags' of image 'a' must not be empty: use one or more of latest, semver, date/,
    ],
    ['an unknown release tag rule', 'images: [{id: a, releaseTags: [nightly]}]', /'releaseTags' of image 'a' is "nightly": use one of latest, semver, date/],
    [
      'an image compute size for a feature',
      'features: [{id: hello, computeSize: xlarge}]',
      /'computeSize' of feature 'hello' is "xlarge": use one of small, medium, large/,
    ],
    ['dependsOn that is not a list', 'images: [{id: a, dependsOn: base}]', /'dependsOn' of image 'a' must be a list, got "base"/],
    ['a namespace that is not a string', 'namespace: [a]', /'namespace' in .* must be a string/],
    ['features that are not a list', 'features: hello', /'features' in .* must be a list, got "hello"/],
    ['a top level that is a list', '- a', /catalogue file .* must be an object \(a mapping\)/],
    ['text that is not YAML', 'images: [a\n  - b: ]', /catalogue file .* is not valid YAML/],
  ])('GIVEN %s WHEN read THEN a CatalogError says what to fix', (_what, text, message) => {
    const path = file(text);
    expect(() => readCatalogFile(path)).toThrow(CatalogError);
    expect(() => readCatalogFile(path)).toThrow(message);
  });

  test('GIVEN a .json file that is not JSON WHEN read THEN the error says JSON and keeps the parser error as cause', () => {
    const path = file('{"images": [', 'json');
    let error: unknown;
    try {
      readCatalogFile(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as Error).message).toMatch(/catalogue file .*\.json is not valid JSON/);
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });

  test('GIVEN a path that does not exist WHEN read THEN the error names it', () => {
    expect(() => readCatalogFile(join(dir, 'missing.yaml'))).toThrow(`cannot read catalogue file ${join(dir, 'missing.yaml')}`);
  });
});
