import { CatalogError, DEFAULT_REFRESH, REFRESH_SCHEDULES, checkFeatureUses } from '../../src/catalog';

describe('checkFeatureUses', () => {
  test('GIVEN images that use catalogue features, or none WHEN checked THEN it passes', () => {
    expect(() =>
      checkFeatureUses([{ id: 'app', usesFeatures: ['hello', 'world'] }, { id: 'base' }, { id: 'bare', usesFeatures: [] }], ['hello', 'world'], 'here'),
    ).not.toThrow();
  });

  test('GIVEN an unknown feature WHEN checked THEN the CatalogError names the image, the feature, the fix and the known features', () => {
    const check = () =>
      checkFeatureUses([{ id: 'base' }, { id: 'app', usesFeatures: ['hello', 'missing'] }], ['hello', 'world'], '-c features=… or the catalogue file c.yaml');
    expect(check).toThrow(CatalogError);
    expect(check).toThrow(
      "image 'app' usesFeatures unknown feature 'missing', which is not a feature of -c features=… or the catalogue file c.yaml: add it to features or remove it from usesFeatures (known: hello, world)",
    );
  });

  test('GIVEN a catalogue without features WHEN an image uses one THEN the error says none are known', () => {
    expect(() => checkFeatureUses([{ id: 'app', usesFeatures: ['hello'] }], [], '-c features=…')).toThrow(/\(known: none\)$/);
  });
});

describe('refresh schedules', () => {
  test('are daily, weekly and off, weekly by default', () => {
    expect(REFRESH_SCHEDULES).toEqual(['daily', 'weekly', 'off']);
    expect(DEFAULT_REFRESH).toBe('weekly');
  });
});
