import { featureReleaseTags } from '../../src';

describe('featureReleaseTags', () => {
  test.each<[string, string[], string[]]>([
    ['1.2.3', [], ['1.2.3', '1.2', '1', 'latest']],
    ['1.2.4', ['1.2.3', '1.2', '1', 'latest'], ['1.2.4', '1.2', '1', 'latest']],
    ['1.1.9', ['1.2.3', '1.2.4', '1.2', '1', 'latest'], ['1.1.9', '1.1']],
    ['1.1.10', ['1.1.9', '1.1', '1.2.4', '1.2', '1', 'latest'], ['1.1.10', '1.1']],
    ['1.3.0', ['1.2.4', '2.0.0', '2', 'latest'], ['1.3.0', '1.3', '1']],
    ['2.0.0', ['1.2.4', '1.2', '1', 'latest'], ['2.0.0', '2.0', '2', 'latest']],
  ])('publishing %s over %j moves %j', (version, published, tags) => {
    expect(featureReleaseTags(version, published)).toEqual(tags);
  });

  test('refuses a version that is not semantic', () => {
    expect(() => featureReleaseTags('1.2', [])).toThrow(/'1\.2' is not a semantic version/);
  });
});
