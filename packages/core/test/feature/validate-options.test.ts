/**
 * Options of a feature: hostile names and large counts. Each option is looked
 * up in the syntax tree once, so validation grows linearly with their number.
 */
import { FileSet, formatProblem, validateFeatureFiles } from '../../src';

const enc = (s: string) => new TextEncoder().encode(s);
const files = (metadataText: string): FileSet =>
  new Map([
    ['devcontainer-feature.json', enc(metadataText)],
    ['install.sh', enc('#!/bin/sh\n')],
  ]);
const HEAD = '"id": "hello", "version": "1.2.3", "name": "Hello"';
const problems = (metadataText: string) => validateFeatureFiles(files(metadataText), { expectedId: 'hello' }).map(formatProblem);

/** devcontainer-feature.json text with `count` valid string options. */
function manyOptions(count: number): string {
  const options = Array.from({ length: count }, (_, i) => `"opt${i}": { "type": "string", "default": "v${i}" }`);
  return `{ ${HEAD}, "options": {\n${options.join(',\n')}\n} }`;
}

describe('option ids', () => {
  test.each(['__proto__', 'constructor', 'prototype'])('"%s" is refused, in a real JSON text', (id) => {
    // JSON text, not an object literal: JSON.parse makes "__proto__" an own property, and a naive parser sets the prototype instead.
    const text = `{ ${HEAD}, "options": { "${id}": { "type": "string", "default": "x" } } }`;

    const found = problems(text);

    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`devcontainer-feature.json:1:`);
    expect(found[0]).toContain(`option "${id}": "${id}" is a name every JavaScript object already has`);
  });

  test('"__proto__" with a value that is not an option is still refused, not skipped', () => {
    expect(problems(`{ ${HEAD}, "options": { "__proto__": { "polluted": true } } }`)).toEqual([
      expect.stringContaining('option "__proto__": "__proto__" is a name every JavaScript object already has'),
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test.each(['1st', 'with space', 'dollar$', 'ünïcode', ''])('"%s" does not match the option-id rule', (id) => {
    const found = problems(`{ ${HEAD}, "options": { ${JSON.stringify(id)}: { "type": "string", "default": "x" } } }`);

    expect(found).toEqual([expect.stringContaining('an option id becomes an environment variable of install.sh')]);
  });
});

describe('many options', () => {
  test('32,000 valid options validate without a problem, in linear time (the old lookup took ~10 s)', () => {
    expect(problems(manyOptions(32_000))).toEqual([]);
  }, 5_000);

  test('32,000 options of which one is bad report exactly that one, with its line', () => {
    const text = manyOptions(32_000).replace('"opt31999": { "type": "string", "default": "v31999" }', '"opt31999": { "type": "string", "default": 3 }');

    expect(problems(text)).toEqual([expect.stringMatching(/^devcontainer-feature\.json:32001:\d+: option "opt31999": "default" must be a string/)]);
  }, 5_000);
});
