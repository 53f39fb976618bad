import { formatProblem, validateImageFiles, type FileSet } from '../../src';

const files = (entries: Record<string, string>): FileSet => new Map(Object.entries(entries).map(([k, v]) => [k, new Uint8Array(Buffer.from(v))]));
const problems = (entries: Record<string, string>) => validateImageFiles(files(entries)).map(formatProblem);
const json = (value: unknown) => JSON.stringify(value, null, 2);

describe('validateImageFiles', () => {
  test('accepts JSONC with comments and trailing commas, features, a version and a test project', () => {
    expect(
      problems({
        '.devcontainer/devcontainer.json': `{
          // the base image
          "image": "mcr.microsoft.com/devcontainers/base:bookworm",
          "features": {
            "ghcr.io/devcontainers/features/node:1": { "version": "lts" },
            "ghcr.io/devcontainers/features/git@sha256:${'a'.repeat(64)}": {},
            "./local-feature": true,
            "https://example.com/features/x.tgz": "1",
          },
          "customizations": { "devcontainer-factory": { "version": "1.2.3-rc.1" } },
        }`,
        '.devcontainer/local-feature/devcontainer-feature.json': '{}',
        'test-project/test.sh': 'true',
      }),
    ).toEqual([]);
  });

  test('accepts a Dockerfile build with a context, the root .devcontainer.json and a compose source', () => {
    expect(
      problems({ '.devcontainer/devcontainer.json': json({ build: { dockerfile: 'Dockerfile', context: '..' } }), '.devcontainer/Dockerfile': 'FROM x' }),
    ).toEqual([]);
    expect(problems({ '.devcontainer.json': json({ build: { dockerfile: 'docker/Dockerfile' } }), 'docker/Dockerfile': 'FROM x' })).toEqual([]);
    expect(
      problems({
        '.devcontainer/devcontainer.json': json({ dockerComposeFile: ['compose.yml'], service: 'app' }),
        '.devcontainer/compose.yml': 'services:\n  app:\n    image: debian:12\n',
      }),
    ).toEqual([]);
  });

  test('reports JSON syntax errors with line and column', () => {
    expect(problems({ '.devcontainer/devcontainer.json': '{\n  "image": "x"\n  "features": {}\n}' })).toEqual([
      '.devcontainer/devcontainer.json:3:3: CommaExpected: fix the JSON syntax here (comments and trailing commas are allowed)',
    ]);
  });

  test('locates each problem at the property that causes it', () => {
    const text = `{
  "image": "Not A Reference!",
  "features": {
    "node": {},
    "ghcr.io/devcontainers/features/Python:1": {}
  },
  "customizations": { "devcontainer-factory": { "version": "v1.2" } }
}`;
    expect(problems({ '.devcontainer/devcontainer.json': text })).toEqual([
      '.devcontainer/devcontainer.json:2:3: "Not A Reference!" is not a valid image reference: use [registry/]name[:tag][@sha256:digest] with a lowercase name, e.g. "mcr.microsoft.com/devcontainers/base:bookworm"',
      '.devcontainer/devcontainer.json:4:5: "node" is a deprecated short feature id: use a full OCI reference such as "ghcr.io/devcontainers/features/node:1"',
      '.devcontainer/devcontainer.json:5:5: "ghcr.io/devcontainers/features/Python:1" is not a valid feature reference: use registry/namespace/feature[:version] such as "ghcr.io/devcontainers/features/node:1", a local "./folder" or an https .tgz URL (names are lowercase: "ghcr.io/devcontainers/features/python:1")',
      '.devcontainer/devcontainer.json:7:49: "v1.2" is not a semantic version: use MAJOR.MINOR.PATCH such as "1.2.3" (optionally with a pre-release, "1.2.3-rc.1"): drop the "v" ("1.2")',
    ]);
  });

  describe('portable references to the factory registry (${localEnv:DCF_REGISTRY}, ${localEnv:DCF_NAMESPACE})', () => {
    const portableImage = '${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/images/base:latest';
    const portableFeature = '${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/features/hello:1';

    test('accepts an image and features that name the factory registry through its variables', () => {
      expect(
        problems({
          '.devcontainer.json': json({
            image: portableImage,
            features: {
              [portableFeature]: {},
              '${localEnv:DCF_REGISTRY}/devcontainers/features/hello:1': { greeting: 'hi' },
              // a default after a second colon is ignored: the factory always sets the variable
              [`\${localEnv:DCF_REGISTRY:localhost:5000}/\${localEnv:DCF_NAMESPACE}/features/hello@sha256:${'b'.repeat(64)}`]: true,
            },
          }),
        }),
      ).toEqual([]);
    });

    test('checks the shape of a portable reference once the variables are substituted', () => {
      expect(problems({ '.devcontainer.json': json({ image: '${localEnv:DCF_REGISTRY}/Not A Reference' }) })).toEqual([
        expect.stringContaining('"${localEnv:DCF_REGISTRY}/Not A Reference" is not a valid image reference'),
      ]);
      expect(problems({ '.devcontainer.json': json({ image: 'a', features: { '${localEnv:DCF_REGISTRY}': {} } }) })).toEqual([
        expect.stringContaining('"${localEnv:DCF_REGISTRY}" is a deprecated short feature id'),
      ]);
    });

    test.each([
      [
        'a feature',
        { image: 'a', features: { '${localEnv:MY_REGISTRY}/devcontainers/features/hello:1': {} } },
        'the feature "${localEnv:MY_REGISTRY}/devcontainers/features/hello:1" uses ${localEnv:MY_REGISTRY}',
      ],
      [
        'the image',
        { image: '${localEnv:DCF_REGISTRY}/${localEnv:USER}/images/base:latest' },
        'the image "${localEnv:DCF_REGISTRY}/${localEnv:USER}/images/base:latest" uses ${localEnv:USER}',
      ],
    ])('refuses any other ${localEnv:…} in %s: only the factory variables are set where it builds', (_, config, start) => {
      expect(problems({ '.devcontainer.json': json(config) })).toEqual([
        expect.stringContaining(
          `${start}: only \${localEnv:DCF_REGISTRY} and \${localEnv:DCF_NAMESPACE} are set by the factory (a build machine's own environment is not part of a reproducible build)`,
        ),
      ]);
    });

    test('the lowercase hint keeps the variable names as they are and lower-cases the rest', () => {
      const hint = (ref: string) =>
        problems({ '.devcontainer.json': json({ image: 'a', features: { [ref]: {} } }) })[0].match(/\(names are lowercase: "(.*)"\)$/)?.[1];
      expect(hint('${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/features/Hello:1')).toBe(
        '${localEnv:DCF_REGISTRY}/${localEnv:DCF_NAMESPACE}/features/hello:1',
      );
      expect(hint('Ghcr.io/Devcontainers/features/node:1')).toBe('ghcr.io/devcontainers/features/node:1');
    });
  });

  test.each([
    [
      'no devcontainer.json',
      { 'README.md': '' },
      '.devcontainer/devcontainer.json: missing: add .devcontainer/devcontainer.json or .devcontainer.json (dcf init image <dir> writes a starting point)',
    ],
    [
      'a devcontainer.json in a sub-folder only',
      { '.devcontainer/python/devcontainer.json': '{}' },
      '.devcontainer/devcontainer.json: missing: add .devcontainer/devcontainer.json or .devcontainer.json; found .devcontainer/python/devcontainer.json: the factory builds the configuration at the root of the folder, so move it to .devcontainer/devcontainer.json',
    ],
    [
      'a feature folder',
      { 'devcontainer-feature.json': '{}' },
      expect.stringContaining('this folder holds a feature (devcontainer-feature.json): push it with --kind feature'),
    ],
    [
      'an empty configuration',
      {},
      '.devcontainer/devcontainer.json: the configuration is empty: add .devcontainer/devcontainer.json (dcf init image <dir> writes a starting point)',
    ],
    [
      'a top-level array',
      { '.devcontainer.json': '[]' },
      '.devcontainer.json:1:1: the top level must be a JSON object ({ … }): fix the JSON syntax here (comments and trailing commas are allowed)',
    ],
    ['no image source', { '.devcontainer.json': '{ "name": "x" }' }, expect.stringContaining('.devcontainer.json:1:1: no image source: set "image"')],
    [
      'two image sources',
      { '.devcontainer.json': json({ image: 'a', build: { dockerfile: 'D' } }), D: '' },
      expect.stringContaining('more than one image source (image, build.dockerfile): keep only one'),
    ],
    [
      'a missing Dockerfile',
      { '.devcontainer/devcontainer.json': json({ build: { dockerfile: 'Dockerfile' } }) },
      expect.stringContaining('the Dockerfile "Dockerfile" does not exist (looked for .devcontainer/Dockerfile)'),
    ],
    [
      'a Dockerfile outside the folder',
      { '.devcontainer/devcontainer.json': json({ build: { dockerfile: '../../Dockerfile' } }) },
      expect.stringContaining('"../../Dockerfile" points outside the configuration folder'),
    ],
    [
      'a build context outside the folder',
      { '.devcontainer/devcontainer.json': json({ build: { dockerfile: 'D', context: '../..' } }), '.devcontainer/D': '' },
      expect.stringContaining('the build context "../.." points outside the configuration folder'),
    ],
    ['a build without a dockerfile', { '.devcontainer.json': json({ build: { context: '.' } }) }, expect.stringContaining('"build" has no "dockerfile"')],
    [
      'a missing compose file',
      { '.devcontainer.json': json({ dockerComposeFile: 'compose.yml', service: 'app' }) },
      expect.stringContaining('the compose file "compose.yml" does not exist'),
    ],
    [
      'a compose source without a service',
      { '.devcontainer.json': json({ dockerComposeFile: 'compose.yml' }), 'compose.yml': '' },
      expect.stringContaining('"service" is required with "dockerComposeFile"'),
    ],
    [
      'features that are not an object',
      { '.devcontainer.json': json({ image: 'a', features: ['x'] }) },
      expect.stringContaining('"features" must be an object'),
    ],
    [
      'a local feature without devcontainer-feature.json',
      { '.devcontainer.json': json({ image: 'a', features: { './mine': {} } }) },
      expect.stringContaining('the local feature "./mine" has no mine/devcontainer-feature.json'),
    ],
    [
      'a feature over plain http',
      { '.devcontainer.json': json({ image: 'a', features: { 'http://example.com/f.tgz': {} } }) },
      expect.stringContaining('is fetched over plain http: use an https:// URL'),
    ],
    [
      'feature options of the wrong type',
      { '.devcontainer.json': json({ image: 'a', features: { 'ghcr.io/a/b:1': 3 } }) },
      expect.stringContaining('the options of "ghcr.io/a/b:1" must be an object'),
    ],
    [
      'a version with build metadata',
      { '.devcontainer.json': json({ image: 'a', customizations: { 'devcontainer-factory': { version: '1.0.0+abc' } } }) },
      expect.stringContaining('build metadata (+…) cannot be part of a registry tag'),
    ],
    [
      'a numeric version',
      { '.devcontainer.json': json({ image: 'a', customizations: { 'devcontainer-factory': { version: 1 } } }) },
      expect.stringContaining('the version must be a string such as "1.0.0", not 1'),
    ],
    [
      'a test project without test.sh',
      { '.devcontainer.json': json({ image: 'a' }), 'test-project/README.md': '' },
      'test-project/test.sh: test-project/ has no test.sh: add test-project/test.sh, which the Test stage runs inside the image, or remove the folder',
    ],
    ['text that is not UTF-8', { '.devcontainer.json': '' }, '.devcontainer.json: is not valid UTF-8 text: save it as UTF-8'],
  ] as [string, Record<string, string>, unknown][])('reports %s', (name, entries, expected) => {
    const set = name === 'text that is not UTF-8' ? new Map([['.devcontainer.json', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])]]) : files(entries);
    expect(validateImageFiles(set).map(formatProblem)).toEqual([expected]);
  });
});
