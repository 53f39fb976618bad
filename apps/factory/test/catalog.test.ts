import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogError, DEFAULT_FEATURES, DEFAULT_IMAGES, readCatalog } from '../src/catalog';

function context(values: Record<string, unknown>) {
  return (key: string) => values[key];
}

const tempDirs: string[] = [];
afterAll(() => tempDirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function catalogFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dcf-catalog-'));
  tempDirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('context', () => {
  test('without context or file, the example catalogue in the default namespace', () => {
    const catalog = readCatalog(context({}));
    expect(catalog.namespace).toBe('devcontainers');
    expect(catalog.images.map((i) => i.id)).toEqual(DEFAULT_IMAGES);
    expect(catalog.features.map((f) => f.id)).toEqual(DEFAULT_FEATURES);
  });

  test('namespace, images and features as comma-separated lists, spaces ignored', () => {
    const catalog = readCatalog(context({ namespace: 'acme', images: 'python, node', features: 'hello' }));
    expect(catalog).toEqual({
      namespace: 'acme',
      images: [{ id: 'python' }, { id: 'node' }],
      features: [{ id: 'hello' }],
      registryScanning: true,
      blobMounting: true,
      signing: false,
      ecrPublicCachePrefix: 'acme/ecr-public',
    });
  });

  test('an empty images list means no images (features still as given)', () => {
    const catalog = readCatalog(context({ images: '', features: 'hello' }));
    expect(catalog.images).toEqual([]);
    expect(catalog.features).toEqual([{ id: 'hello' }]);
  });

  test('naming only images leaves features empty rather than defaulting them', () => {
    expect(readCatalog(context({ images: 'python' })).features).toEqual([]);
  });

  test('lists from cdk.json context may be arrays', () => {
    expect(readCatalog(context({ images: ['a', 'b'], features: [] })).images.map((i) => i.id)).toEqual(['a', 'b']);
  });
});

describe('catalogue file', () => {
  test('YAML with per-image settings merges with the context lists', () => {
    const path = catalogFile(
      'catalog.yaml',
      [
        'images:',
        '  - id: base',
        '    platforms: [linux/amd64]',
        '    computeSize: large',
        '  - id: python',
        '    dependsOn: [base]',
        '    releaseTags: [latest, semver]',
        'features:',
        '  - hello',
        '  - id: world',
        '    computeSize: medium',
      ].join('\n'),
    );
    const catalog = readCatalog(context({ catalog: path, images: 'python,node' }));
    expect(catalog.images).toEqual([
      { id: 'python', dependsOn: ['base'], releaseTags: ['latest', 'semver'] },
      { id: 'node' },
      { id: 'base', platforms: ['linux/amd64'], computeSize: 'large' },
    ]);
    expect(catalog.features).toEqual([{ id: 'hello' }, { id: 'world', computeSize: 'medium' }]);
  });

  test('JSON works the same, and its namespace applies unless context overrides it', () => {
    const path = catalogFile('catalog.json', JSON.stringify({ namespace: 'team', images: [{ id: 'go' }] }));
    expect(readCatalog(context({ catalog: path })).namespace).toBe('team');
    expect(readCatalog(context({ catalog: path, namespace: 'other' })).namespace).toBe('other');
    expect(readCatalog(context({ catalog: path })).features).toEqual([]);
  });

  test('a relative path is read from the working directory', () => {
    const path = catalogFile('c.yml', 'images: [rust]\n');
    const catalog = readCatalog(context({ catalog: 'c.yml' }), join(path, '..'));
    expect(catalog.images).toEqual([{ id: 'rust' }]);
  });
});

describe('bad input fails with the value and the rule', () => {
  const yaml = (text: string) => ({ catalog: catalogFile('catalog.yaml', text) });
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['upper case in an id', { images: 'Python' }, /image id 'Python' is invalid: use lowercase letters, digits and '-'.*try 'python'/],
    ['an underscore in an id', { images: 'my_image' }, /image id 'my_image' is invalid.*try 'my-image'/],
    ['a feature id with a dot', { features: 'hello.world' }, /feature id 'hello.world' is invalid/],
    ['an id starting with -', { images: '-x' }, /image id '-x' is invalid/],
    ['an id too long', { images: 'a'.repeat(64) }, /is 64 characters long; the limit is 63/],
    ['a duplicate id in context', { images: 'python,node,python' }, /duplicate image id 'python' in -c images/],
    ['a duplicate id in the file', yaml('images: [{id: a}, {id: a}]'), /duplicate image id 'a' in the catalogue file/],
    ['an invalid namespace', { namespace: 'Acme' }, /namespace 'Acme' is invalid/],
    ['a namespace with an underscore', { namespace: 'my_ns' }, /namespace 'my_ns' is invalid/],
    ['an unknown dependsOn', yaml('images: [{id: python, dependsOn: [base]}]'), /image 'python' dependsOn unknown image 'base'/],
    [
      'a dependsOn cycle',
      yaml('images: [{id: a, dependsOn: [b]}, {id: b, dependsOn: [c]}, {id: c, dependsOn: [a]}]'),
      /dependsOn has a cycle: a -> b -> c -> a/,
    ],
    ['an image depending on itself', yaml('images: [{id: a, dependsOn: [a]}]'), /image 'a' lists itself in dependsOn/],
    [
      'an unknown key in an image',
      yaml('images: [{id: a, platform: [linux/amd64]}]'),
      /unknown key 'platform' in images\[0\].*allowed keys are id, platforms, computeSize, dependsOn, releaseTags/,
    ],
    ['an unknown top-level key', yaml('imagez: [a]'), /unknown key 'imagez' in catalogue file/],
    ['an unknown key in a feature', yaml('features: [{id: hello, version: 1}]'), /unknown key 'version' in features\[0\]/],
    [
      'an unknown platform',
      yaml('images: [{id: a, platforms: [linux/s390x]}]'),
      /'platforms' of image 'a' is "linux\/s390x": use one of linux\/amd64, linux\/arm64/,
    ],
    ['an empty platform list', yaml('images: [{id: a, platforms: []}]'), /'platforms' of image 'a' must not be empty/],
    ['an unknown compute size', yaml('images: [{id: a, computeSize: huge}]'), /'computeSize' of image 'a' is "huge"/],
    [
      'an unknown release tag rule',
      yaml('images: [{id: a, releaseTags: [nightly]}]'),
      /'releaseTags' of image 'a' is "nightly": use one of latest, semver, date/,
    ],
    ['a file that is not YAML', yaml('images: [a\n  - b: ]'), /is not valid YAML/],
    ['a file that does not exist', { catalog: '/nonexistent/catalog.yaml' }, /cannot read catalogue file \/nonexistent\/catalog.yaml/],
    ['images that are not a list', yaml('images: python'), /'images' in .* must be a list/],
  ])('%s', (_what, values, message) => {
    expect(() => readCatalog(context(values))).toThrow(CatalogError);
    expect(() => readCatalog(context(values))).toThrow(message);
  });
});
