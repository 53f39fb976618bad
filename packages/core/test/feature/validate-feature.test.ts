import { ConfigProblem, FileSet, formatProblem, InvalidConfigurationError, readFeatureMetadata, validateFeatureFiles } from '../../src';

const enc = (s: string) => new TextEncoder().encode(s);

function feature(metadata: string | object, extra: Record<string, string> = {}): FileSet {
  const text = typeof metadata === 'string' ? metadata : JSON.stringify(metadata, null, 2);
  return new Map(Object.entries({ 'devcontainer-feature.json': text, 'install.sh': '#!/bin/sh\n', ...extra }).map(([k, v]) => [k, enc(v)]));
}

const VALID = { id: 'hello', version: '1.2.3', name: 'Hello' };

function problems(files: FileSet, expectedId = 'hello'): string[] {
  return validateFeatureFiles(files, { expectedId }).map(formatProblem);
}

describe('validateFeatureFiles', () => {
  test('a minimal feature with id, version and install.sh has no problems', () => {
    expect(problems(feature(VALID))).toEqual([]);
  });

  test('a complete feature (options, installsAfter, dependsOn, tests, comments, trailing commas) has no problems', () => {
    // GIVEN
    const text = `{
      // JSONC, as the devcontainer CLI reads it
      "id": "hello", "version": "2.0.0", "name": "Hello", "description": "Says hello",
      "documentationURL": "https://example.com", "keywords": ["greeting"], "containerEnv": { "GREETING": "hi" },
      "privileged": false, "init": true, "capAdd": ["SYS_PTRACE"], "customizations": { "vscode": { "extensions": [] } },
      "options": {
        "greeting": { "type": "string", "default": "hi", "proposals": ["hi", "hey"], "description": "What to say" },
        "level": { "type": "string", "default": "info", "enum": ["info", "debug"] },
        "loud": { "type": "boolean", "default": false },
      },
      "installsAfter": ["ghcr.io/devcontainers/features/common-utils", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/devcontainers/features/base"],
      "dependsOn": { "ghcr.io/devcontainers/features/node:1": { "version": "lts" }, "localhost:5000/team/features/x@sha256:${'a'.repeat(64)}": {} },
      "postCreateCommand": ["echo", "hi"],
    }`;

    // THEN
    expect(
      problems(
        feature(text, {
          'test/test.sh': 'check',
          'test/scenarios.json': '{ "loud": { "image": "debian", "features": { "hello": { "loud": true } } } }',
          'test/loud.sh': 'x',
        }),
      ),
    ).toEqual([]);
  });

  test.each<[string, FileSet, RegExp]>([
    [
      'a missing devcontainer-feature.json',
      new Map([['install.sh', enc('')]]),
      /^devcontainer-feature\.json: missing: a feature needs devcontainer-feature\.json at its root/,
    ],
    [
      'a zipped folder instead of its contents',
      new Map([
        ['hello/devcontainer-feature.json', enc('{}')],
        ['hello/install.sh', enc('')],
      ]),
      /missing at the root: found hello\/devcontainer-feature\.json; zip the contents of 'hello', not the folder itself/,
    ],
    ['a missing install.sh', new Map([['devcontainer-feature.json', enc(JSON.stringify(VALID))]]), /^install\.sh: missing: a feature needs install\.sh/],
    ['broken JSON', feature('{ "id": "hello", "version": }'), /^devcontainer-feature\.json:1:\d+: ValueExpected: fix the JSON syntax/],
    ['a JSON array', feature('[]'), /^devcontainer-feature\.json:1:1: the top level must be a JSON object/],
    [
      'a missing name',
      feature({ id: 'my-tool', version: '1.0.0' }),
      /^devcontainer-feature\.json:1:1: "name" is missing: the devcontainer CLI refuses to package a feature without one; add a display name, e.g. "name": "Hello"/,
    ],
    ['a missing id', feature({ version: '1.0.0', name: 'x' }), /^devcontainer-feature\.json:1:1: "id" is missing: add "id": "hello"/],
    ['an id of another type', feature({ ...VALID, id: 7 }), /^devcontainer-feature\.json:2:9: "id" must be a string/],
    ['an id with capitals', feature({ ...VALID, id: 'Hello' }), /"id": feature id 'Hello' is invalid: .* \(try 'hello'\)/],
    [
      'an id other than the catalogue id',
      feature({ ...VALID, id: 'helo' }),
      /^devcontainer-feature\.json:2:9: "id" is 'helo' but the feature is catalogued and uploaded as 'hello': set "id": "hello"/,
    ],
    ['a missing version', feature({ id: 'hello', name: 'Hello' }), /"version" is missing: add a semantic version, e.g. "version": "1.0.0"/],
    [
      'a two-part version',
      feature({ ...VALID, version: '1.2' }),
      /^devcontainer-feature\.json:3:14: "version" '1\.2' is not a semantic version: use MAJOR\.MINOR\.PATCH, e\.g\. "1\.0\.0" \(try "1\.2\.0"\)/,
    ],
    [
      'a v-prefixed version',
      feature({ ...VALID, version: 'v1.0.0' }),
      /"version" 'v1\.0\.0' is not a version the factory publishes: the devcontainer CLI would publish it as the tag 'v1\.0\.0', a second name for 1\.0\.0 .*Write "1\.0\.0"/,
    ],
    [
      'a version with build metadata',
      feature({ ...VALID, version: '1.0.0+build.1' }),
      /"version" '1\.0\.0\+build\.1' is not a version the factory publishes: build metadata .* '\+' is not allowed in a registry tag .*bump PATCH for each new build/,
    ],
    ['a numeric version', feature({ ...VALID, version: 1 }), /"version" must be a string holding a semantic version/],
    [
      'a pre-release version',
      feature({ ...VALID, version: '2.0.0-rc.1' }),
      /"version" '2\.0\.0-rc\.1' is a pre-release, and the factory publishes feature releases only .*: publish a release version/,
    ],
    ['options that are not an object', feature({ ...VALID, options: [] }), /"options" must be an object, not an array/],
    [
      'an option that is not an object',
      feature({ ...VALID, options: { a: 'x' } }),
      /option "a" must be an object like \{ "type": "string", "default": "…" \}, not string "x"/,
    ],
    ['an option without a type', feature({ ...VALID, options: { a: { default: 'x' } } }), /option "a": "type" must be "string" or "boolean" \(it is missing\)/],
    [
      'an option of an unknown type',
      feature({ ...VALID, options: { a: { type: 'number', default: 1 } } }),
      /option "a": "type" must be "string" or "boolean", not string "number"/,
    ],
    ['an option without a default', feature({ ...VALID, options: { a: { type: 'boolean' } } }), /option "a": "default" is missing: .* \(true or false\)/],
    [
      'a default of the wrong type',
      feature({ ...VALID, options: { a: { type: 'string', default: true } } }),
      /option "a": "default" must be a string, as "type" says, not boolean true/,
    ],
    [
      'a default outside the enum',
      feature({ ...VALID, options: { a: { type: 'string', default: 'z', enum: ['x', 'y'] } } }),
      /option "a": "default" 'z' is not one of "enum" \("x", "y"\)/,
    ],
    ['an empty enum', feature({ ...VALID, options: { a: { type: 'string', default: '', enum: [] } } }), /option "a": "enum" is empty/],
    [
      'both enum and proposals',
      feature({ ...VALID, options: { a: { type: 'string', default: 'x', enum: ['x'], proposals: ['x'] } } }),
      /option "a": give "enum" \(only these values\) or "proposals" \(suggestions\), not both/,
    ],
    [
      'proposals that are not strings',
      feature({ ...VALID, options: { a: { type: 'string', default: 'x', proposals: [1] } } }),
      /option "a": "proposals" must be an array of strings/,
    ],
    [
      'an enum on a boolean option',
      feature({ ...VALID, options: { a: { type: 'boolean', default: true, enum: ['x'] } } }),
      /option "a": "enum" is for string options; remove it/,
    ],
    [
      'a misspelt option property',
      feature({ ...VALID, options: { a: { type: 'string', default: 'x', enums: ['x'] } } }),
      /option "a": unknown property "enums"/,
    ],
    [
      'an option id that is not an environment variable',
      feature({ ...VALID, options: { '1st': { type: 'boolean', default: true } } }),
      /option "1st": an option id becomes an environment variable/,
    ],
    [
      'two option ids with the same environment variable',
      feature({ ...VALID, options: { 'a-b': { type: 'boolean', default: true }, a_b: { type: 'boolean', default: true } } }),
      /option "a_b" and option "a-b" both become the environment variable A_B/,
    ],
    ['installsAfter that is not a list', feature({ ...VALID, installsAfter: 'ghcr.io/a/b' }), /"installsAfter" must be an array of strings, not string/],
    [
      'installsAfter with a version',
      feature({ ...VALID, installsAfter: ['ghcr.io/devcontainers/features/node:1'] }),
      /"installsAfter" entry 'ghcr\.io\/devcontainers\/features\/node:1': lists features without a version: write 'ghcr\.io\/devcontainers\/features\/node'/,
    ],
    [
      'installsAfter with a bare id',
      feature({ ...VALID, installsAfter: ['common-utils'] }),
      /'common-utils': is not a full feature reference: write <registry>\/<namespace>\/<id>, e\.g\. ghcr\.io\/devcontainers\/features\/common-utils/,
    ],
    ['installsAfter with a local folder', feature({ ...VALID, installsAfter: ['./base'] }), /'\.\/base': a published feature cannot depend on a local folder/],
    ['installsAfter with capitals', feature({ ...VALID, installsAfter: ['ghcr.io/Team/features/x'] }), /'Team' is not a valid repository path segment/],
    ['installsAfter without a registry host', feature({ ...VALID, installsAfter: ['team/features/x'] }), /'team' is not a registry host/],
    ['dependsOn that is a list', feature({ ...VALID, dependsOn: ['ghcr.io/a/b'] }), /"dependsOn" must be an object, not an array/],
    [
      'dependsOn with a bad digest',
      feature({ ...VALID, dependsOn: { 'ghcr.io/a/b@sha256:xyz': {} } }),
      /"dependsOn" key 'ghcr\.io\/a\/b@sha256:xyz': '@sha256:xyz' is not a digest/,
    ],
    ['dependsOn with a bad tag', feature({ ...VALID, dependsOn: { 'ghcr.io/a/b:-x': {} } }), /':-x' is not a valid tag/],
    ['dependsOn over http', feature({ ...VALID, dependsOn: { 'http://example.com/f.tgz': {} } }), /features are only fetched over https/],
    [
      'dependsOn options that are not options',
      feature({ ...VALID, dependsOn: { 'ghcr.io/a/b:1': { version: 1 } } }),
      /"dependsOn" 'ghcr\.io\/a\/b:1': the value must be the options to install it with/,
    ],
    ['a misspelt property', feature({ ...VALID, installAfter: [] }), /unknown property "installAfter": did you mean "installsAfter"\?/],
    ['a property of the wrong type', feature({ ...VALID, privileged: 'yes' }), /"privileged" must be a boolean, not string "yes"/],
    ['containerEnv with a number', feature({ ...VALID, containerEnv: { A: 1 } }), /"containerEnv" must be an object of strings/],
    ['a test folder without tests', feature(VALID, { 'test/helper.sh': '' }), /^test\/: has no test\/test\.sh and no test\/scenarios\.json/],
    ['broken scenarios.json', feature(VALID, { 'test/scenarios.json': '{ "a": ' }), /^test\/scenarios\.json:1:\d+: .*fix the JSON syntax/],
    [
      'a scenario without its script',
      feature(VALID, { 'test/scenarios.json': '{ "loud": { "image": "debian" } }' }),
      /^test\/scenarios\.json:1:3: scenario 'loud' has no script: add test\/loud\.sh/,
    ],
    [
      'a scenario without an image',
      feature(VALID, { 'test/scenarios.json': '{ "loud": { "features": {} } }', 'test/loud.sh': '' }),
      /scenario 'loud' names no "image"/,
    ],
    [
      'a scenario that is not an object',
      feature(VALID, { 'test/scenarios.json': '{ "loud": [] }', 'test/loud.sh': '' }),
      /scenario 'loud' must be a devcontainer configuration object/,
    ],
  ])('%s is a problem', (_name, files, message) => {
    const found = problems(files);
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  test('every problem of a file is reported, in the order of the file', () => {
    // GIVEN
    const files = feature({ id: 'Bad', version: '1', name: 'Bad', options: { a: { type: 'x' } } });

    // WHEN
    const found: ConfigProblem[] = validateFeatureFiles(files);

    // THEN
    expect(found.map((p) => p.line)).toEqual([2, 3, 7]);
  });

  test('option ids that the devcontainer CLI maps to one variable are refused, as it names them ("_a", "__a" and "_1a" are all _A)', () => {
    // GIVEN: "a" (A) and "_a" differ; the CLI's getSafeId turns a leading run of digits and '_' into one '_'
    const files = feature({
      ...VALID,
      options: {
        a: { type: 'string', default: '' },
        _a: { type: 'string', default: '' },
        __a: { type: 'string', default: '' },
        _1a: { type: 'string', default: '' },
      },
    });

    // WHEN
    const found = problems(files);

    // THEN
    const lost =
      'the devcontainer CLI writes a line for each into devcontainer-features.env and install.sh sees only the last, so a value given for the other is lost; rename one of them';
    expect(found).toEqual([
      expect.stringMatching(
        new RegExp(
          `^devcontainer-feature\\.json:\\d+:\\d+: option "__a" and option "_a" both become the environment variable _A: ${lost.replace(/[.;]/g, '\\$&')}$`,
        ),
      ),
      expect.stringMatching(/^devcontainer-feature\.json:\d+:\d+: option "_1a" and option "_a" both become the environment variable _A: /),
    ]);
  });

  test('without an expected id, any valid id is accepted', () => {
    expect(validateFeatureFiles(feature({ ...VALID, id: 'other' }))).toEqual([]);
  });
});

describe('readFeatureMetadata', () => {
  test('returns the parsed metadata of a valid feature', () => {
    expect(readFeatureMetadata(feature('{ "id": "hello", "version": "1.0.0", "name": "Hello", /* c */ }'), { expectedId: 'hello' })).toEqual({
      id: 'hello',
      version: '1.0.0',
      name: 'Hello',
    });
  });

  test('throws InvalidConfigurationError listing every problem', () => {
    expect(() => readFeatureMetadata(feature({ id: 'hello', name: 'Hello' }), { expectedId: 'world' })).toThrow(InvalidConfigurationError);
    expect(() => readFeatureMetadata(feature({ id: 'hello', name: 'Hello' }), { expectedId: 'world' })).toThrow(
      /2 problems:[\s\S]*"version" is missing[\s\S]*"id" is 'hello'/,
    );
  });
});
