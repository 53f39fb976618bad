import { CatalogError, buildOrder, checkDependencies, checkIds } from '../../src/catalog';

describe('buildOrder', () => {
  test('GIVEN images listed before their bases WHEN ordered THEN each comes after its bases, the rest in the given order', () => {
    const images = [{ id: 'app', dependsOn: ['python', 'tools'] }, { id: 'python', dependsOn: ['base'] }, { id: 'node' }, { id: 'tools' }, { id: 'base' }];
    expect(buildOrder(images).map((i) => i.id)).toEqual(['base', 'python', 'tools', 'app', 'node']);
  });

  test('GIVEN entries with more fields WHEN ordered THEN the same objects come back', () => {
    const base = { id: 'base', dir: '/x/base' };
    const app = { id: 'app', dir: '/x/app', dependsOn: ['base'] };
    const ordered = buildOrder([app, base]);
    expect(ordered[0]).toBe(base);
    expect(ordered[1]).toBe(app);
  });

  test('GIVEN a cycle WHEN ordered THEN the error shows its path and where the catalogue is', () => {
    const images = [{ id: 'x' }, { id: 'a', dependsOn: ['b'] }, { id: 'b', dependsOn: ['c'] }, { id: 'c', dependsOn: ['a'] }];
    expect(() => buildOrder(images, 'the catalogue file c.yaml')).toThrow(CatalogError);
    expect(() => buildOrder(images, 'the catalogue file c.yaml')).toThrow(
      'dependsOn has a cycle: a -> b -> c -> a in the catalogue file c.yaml; an image cannot (indirectly) be built on itself',
    );
  });

  test('GIVEN a cycle entered from outside WHEN ordered THEN the path starts where the cycle does', () => {
    const images = [
      { id: 'app', dependsOn: ['a'] },
      { id: 'a', dependsOn: ['b'] },
      { id: 'b', dependsOn: ['a'] },
    ];
    expect(() => buildOrder(images)).toThrow(/has a cycle: a -> b -> a in the catalogue;/);
  });
});

describe('checkDependencies', () => {
  test('GIVEN bases that are catalogue images WHEN checked THEN it passes', () => {
    expect(() => checkDependencies([{ id: 'base' }, { id: 'app', dependsOn: ['base'] }], 'here')).not.toThrow();
  });

  test('GIVEN an unknown base WHEN checked THEN the error names the image, the base, the fix and the known images', () => {
    expect(() => checkDependencies([{ id: 'app', dependsOn: ['missing'] }, { id: 'node' }], 'the catalogue file c.yaml')).toThrow(
      "image 'app' dependsOn unknown image 'missing', which is not an image of the catalogue file c.yaml: add it to images or remove it from dependsOn (known: app, node)",
    );
  });

  test('GIVEN an image that is its own base WHEN checked THEN the error says so', () => {
    expect(() => checkDependencies([{ id: 'a', dependsOn: ['a'] }], 'here')).toThrow("image 'a' lists itself in dependsOn: an image cannot be its own base");
  });
});

describe('checkIds', () => {
  test('GIVEN valid distinct ids WHEN checked THEN it passes', () => {
    expect(() => checkIds('image', ['python', 'node-20'], '-c images=…')).not.toThrow();
  });

  test.each<[string, string[], RegExp]>([
    ['an invalid id', ['my_image'], /image id 'my_image' is invalid.*try 'my-image'.*\. Fix it in -c images=…$/],
    ['a duplicate', ['a', 'b', 'a'], /^duplicate image id 'a' in -c images=…: list each image once$/],
  ])('GIVEN %s WHEN checked THEN a CatalogError names the source', (_what, ids, message) => {
    expect(() => checkIds('image', ids, '-c images=…')).toThrow(CatalogError);
    expect(() => checkIds('image', ids, '-c images=…')).toThrow(message);
  });
});
