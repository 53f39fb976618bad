import { MAX_JSON_DEPTH, parseJsonc } from '../../src/config/devcontainer-json';
import { validateImageFiles } from '../../src/image/validate-image';
import { validateFeatureFiles } from '../../src/feature/validate-feature';

const enc = (s: string) => new TextEncoder().encode(s);
const deep = (n: number) => `{ "a": ${'['.repeat(n)}${']'.repeat(n)} }`;

describe('JSON nesting depth', () => {
  test('parseJsonc refuses text nested deeper than the limit before parsing it, with its position', () => {
    const result = parseJsonc(deep(100_000));
    expect(result.value).toBeUndefined();
    expect(result.problems).toEqual([
      {
        message: `objects and arrays are nested more than ${MAX_JSON_DEPTH} levels deep (the limit): flatten the file`,
        line: 1,
        column: 8 + MAX_JSON_DEPTH - 1,
      },
    ]);
  });

  test('parseJsonc reads text nested up to the limit, and ignores brackets in strings and comments', () => {
    expect(parseJsonc(deep(MAX_JSON_DEPTH - 1)).problems).toEqual([]);
    expect(parseJsonc(`{ "a": "${'['.repeat(1000)}", // ${'{'.repeat(1000)}\n /* ${'['.repeat(1000)} */ "b": "\\"[" }`).value).toEqual({
      a: '['.repeat(1000),
      b: '"[',
    });
  });

  test.each([
    ['devcontainer.json', () => validateImageFiles(new Map([['.devcontainer/devcontainer.json', enc(deep(100_000))]])), '.devcontainer/devcontainer.json'],
    [
      'devcontainer-feature.json',
      () =>
        validateFeatureFiles(
          new Map([
            ['devcontainer-feature.json', enc(deep(100_000))],
            ['install.sh', enc('#!/bin/sh\n')],
          ]),
        ),
      'devcontainer-feature.json',
    ],
  ])('a %s nested 100,000 deep is a problem naming the file, not a RangeError', (_name, validate, file) => {
    expect(validate()).toEqual(expect.arrayContaining([expect.objectContaining({ file, message: expect.stringMatching(/nested more than 64 levels deep/) })]));
  });
});
