/**
 * Options given to a feature in devcontainer.json, checked against its definition as the
 * devcontainer CLI (0.89) treats them: an error only where the CLI (or the shell it writes
 * the options for) fails, a warning where it goes on. The definitions are shaped like
 * published ones (devcontainers/features python, node, docker-in-docker, common-utils,
 * feature-starter's hello and color); the expected behaviour of each case was observed by
 * running `devcontainer build` 0.89 and reading the `devcontainer-features.env` it wrote.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkFeatureOptions,
  DEVCONTAINER_ARTIFACT,
  featureDefinitionOfManifest,
  featureOptionVariable,
  FeatureOptionProblem,
  MAX_CHECKED_FEATURE_OPTIONS,
  MAX_FEATURE_MANIFEST_BYTES,
  MAX_SHOWN_OPTION_CHARS,
  optionTextInEnvFile,
  optionVariableClashes,
  parseJsonc,
} from '../../src';

const PYTHON = {
  id: 'python',
  version: '1.6.3',
  name: 'Python',
  options: {
    version: {
      type: 'string',
      proposals: ['latest', 'os-provided', 'none', '3.12', '3.11', '3.10'],
      default: 'os-provided',
      description: 'Select a Python version to install.',
    },
    installTools: {
      type: 'boolean',
      default: true,
      description: 'Flag indicating whether or not to install the tools specified via the toolsToInstall option.',
    },
    optimize: { type: 'boolean', default: false },
    toolsToInstall: { type: 'string', default: 'flake8,autopep8,black,yapf,mypy,pydocstyle,pycodestyle,bandit,pipenv,virtualenv,pytest,pylint' },
  },
};
const DOCKER_IN_DOCKER = {
  id: 'docker-in-docker',
  version: '2.12.0',
  name: 'Docker (Docker-in-Docker)',
  options: {
    version: { type: 'string', proposals: ['latest', 'none', '20.10'], default: 'latest' },
    moby: { type: 'boolean', default: true },
    dockerDashComposeVersion: { type: 'string', enum: ['none', 'v1', 'v2'], default: 'v2' },
  },
};
const COMMON_UTILS = {
  id: 'common-utils',
  version: '2.5.2',
  name: 'Common Utilities',
  options: {
    installZsh: { type: 'boolean', default: true },
    configureZshAsDefaultShell: { type: 'boolean', default: false },
    username: { type: 'string', proposals: ['devcontainer', 'vscode', 'codespace', 'none', 'automatic'], default: 'automatic' },
    userUid: { type: 'string', proposals: ['1001', 'automatic'], default: 'automatic' },
    upgradePackages: { type: 'boolean', default: true },
  },
};
/** No "version" option: the string shorthand means nothing to it. */
const HELLO = {
  id: 'hello',
  version: '1.0.2',
  name: 'Hello, World!',
  options: { greeting: { type: 'string', proposals: ['hey', 'hello', 'hi', 'howdy'], default: 'hey' } },
};
/** A third-party definition whose option ids the CLI maps to the same variables. */
const CLASHING = {
  id: 'legacy-tool',
  version: '0.3.0',
  name: 'Legacy tool',
  options: {
    _home: { type: 'string', default: '/opt/tool' },
    __home: { type: 'string', default: '/usr/local/tool' },
    'install-docs': { type: 'boolean', default: true },
    install_docs: { type: 'boolean', default: false },
    channel: { type: 'string', default: 'stable' },
  },
};

const REF = 'ghcr.io/devcontainers/features/python:1';
const check = (given: unknown, definition: unknown = PYTHON, feature = REF) => checkFeatureOptions(feature, definition, given);
const warning = (option: string | undefined, message: string): FeatureOptionProblem => ({
  severity: 'warning',
  ...(option === undefined ? {} : { option }),
  message: `feature ${REF}: ${message}`,
});
const error = (option: string | undefined, message: string): FeatureOptionProblem => ({
  severity: 'error',
  ...(option === undefined ? {} : { option }),
  message: `feature ${REF}: ${message}`,
});

describe('featureOptionVariable', () => {
  test.each([
    ['version', 'VERSION'],
    ['installTools', 'INSTALLTOOLS'],
    ['option-name', 'OPTION_NAME'],
    ['option1-name-with_dashes-', 'OPTION1_NAME_WITH_DASHES_'],
    ['1name', '_NAME'],
    ['12345_option-name', '_OPTION_NAME'],
    ['_a', '_A'],
    ['__a', '_A'],
    ['_1a', '_A'],
    ['a.b', 'A_B'],
    ['ünï', '_N_'],
  ])('%s becomes %s, as the CLI names it (getSafeId)', (id, variable) => {
    expect(featureOptionVariable(id)).toBe(variable);
  });
});

describe('optionVariableClashes', () => {
  test('the options of real features do not clash', () => {
    for (const definition of [PYTHON, DOCKER_IN_DOCKER, COMMON_UTILS, HELLO]) expect(optionVariableClashes(Object.keys(definition.options))).toEqual([]);
  });

  test('ids that differ only in leading underscores, in - or _, or in case clash; each group sorted, groups by their first id (in code-unit order)', () => {
    expect(optionVariableClashes(['tool', 'a_b', '_a', 'x', '__a', 'Tool', 'a-b', '_1a'])).toEqual([
      ['Tool', 'tool'],
      ['_1a', '__a', '_a'],
      ['a-b', 'a_b'],
    ]);
  });

  test('an id given twice is no clash', () => {
    expect(optionVariableClashes(['a', 'a'])).toEqual([]);
  });
});

describe('checkFeatureOptions: what the CLI installs as meant passes', () => {
  test.each<[string, unknown, unknown]>([
    ['options of the right types', { version: '3.12', installTools: false, optimize: true }, PYTHON],
    ['a free value where the option only proposes values', { version: '3.9.18' }, PYTHON],
    ['a value of the enum', { dockerDashComposeVersion: 'v1', moby: false }, DOCKER_IN_DOCKER],
    ['{} for the defaults', {}, COMMON_UTILS],
    ['the string shorthand for "version"', '3.12', PYTHON],
    ['true for a feature without a "version" option', true, HELLO],
    ['a value with a devcontainer variable, which the CLI substitutes first', { username: '${localEnv:USER}', userUid: '${localEnv:UID:1000}' }, COMMON_UTILS],
    ['a value with a single quote, which double quotes keep', { greeting: "it's me" }, HELLO],
    ['no value (the feature is not in devcontainer.json)', undefined, PYTHON],
  ])('%s', (_name, given, definition) => {
    expect(check(given, definition)).toEqual([]);
  });
});

describe('checkFeatureOptions: tolerated by the CLI, so a warning', () => {
  test('an unknown option names the options there are and the one meant', () => {
    expect(
      checkFeatureOptions(
        'ghcr.io/x/python:1',
        { options: { version: PYTHON.options.version, installTools: PYTHON.options.installTools } },
        { verzion: '3.12' },
      ),
    ).toEqual([
      {
        severity: 'warning',
        option: 'verzion',
        message:
          'feature ghcr.io/x/python:1: option "verzion" is not an option of this feature (its options: version, installTools); the devcontainer CLI only passes it to install.sh as the variable VERZION, which the feature does not declare — did you mean "version"?',
      },
    ]);
  });

  test('an unknown option that looks like none of them is to be removed; a feature without options says so', () => {
    expect(check({ pipx: true })).toEqual([
      warning(
        'pipx',
        'option "pipx" is not an option of this feature (its options: version, installTools, optimize, toolsToInstall); the devcontainer CLI only passes it to install.sh as the variable PIPX, which the feature does not declare: remove it',
      ),
    ]);
    expect(check({ pipx: true }, { id: 'bare', version: '1.0.0' })).toEqual([
      warning(
        'pipx',
        'option "pipx" is not an option of this feature (it has no options); the devcontainer CLI only passes it to install.sh as the variable PIPX, which the feature does not declare: remove it',
      ),
    ]);
  });

  test('a transposed or misspelt id is matched to the option meant', () => {
    expect(check({ verison: '3.12', instalTools: true, toolsToInstal: 'black' }).map((p) => p.message.replace(/.* — /, ''))).toEqual([
      'did you mean "version"?',
      'did you mean "installTools"?',
      'did you mean "toolsToInstall"?',
    ]);
  });

  test('booleans written as strings work, and are warned about once each', () => {
    expect(check({ installTools: 'true', optimize: 'false' })).toEqual([
      warning(
        'installTools',
        'option "installTools" is a boolean option but is given the string "true"; the devcontainer CLI passes the text "true" either way, so it works: write true, without quotes',
      ),
      warning(
        'optimize',
        'option "optimize" is a boolean option but is given the string "false"; the devcontainer CLI passes the text "false" either way, so it works: write false, without quotes',
      ),
    ]);
  });

  test('a boolean option given another text or a number gets neither true nor false', () => {
    expect(check({ installTools: 'yes', optimize: 1 })).toEqual([
      warning(
        'installTools',
        'option "installTools" is a boolean option but is given the string "yes"; the devcontainer CLI passes the text "yes", which is neither true nor false: write true or false',
      ),
      warning(
        'optimize',
        'option "optimize" is a boolean option but is given the number 1; the devcontainer CLI passes the text "1", which is neither true nor false: write true or false',
      ),
    ]);
  });

  test('a value outside the enum is passed on anyway; a near miss is named', () => {
    expect(check({ dockerDashComposeVersion: 'V2' }, DOCKER_IN_DOCKER)).toEqual([
      warning(
        'dockerDashComposeVersion',
        'option "dockerDashComposeVersion" is "V2", which is not one of the values the option allows ("none", "v1", "v2"); the devcontainer CLI passes it on all the same, and install.sh may fail or ignore it: did you mean "v2"?',
      ),
    ]);
    expect(check({ dockerDashComposeVersion: 'compose' }, DOCKER_IN_DOCKER)[0].message).toMatch(/: write one of them$/);
  });

  test('a number where a string is expected loses its trailing zeros: 3.10 is passed as "3.1"', () => {
    const given = parseJsonc('{ "version": 3.10 }').value;

    expect(check(given)).toEqual([
      warning(
        'version',
        'option "version" is a string option but is given the number 3.1; the devcontainer CLI passes the text "3.1" (a JSON number keeps no trailing zeros: 3.10 is passed as "3.1"): write "3.1", in quotes',
      ),
    ]);
  });

  test('a boolean where a string is expected is also checked against the enum, as the text the CLI passes', () => {
    expect(check({ dockerDashComposeVersion: false }, DOCKER_IN_DOCKER)).toEqual([
      warning(
        'dockerDashComposeVersion',
        'option "dockerDashComposeVersion" is a string option but is given the boolean false; the devcontainer CLI passes the text "false": write "false", in quotes',
      ),
      warning(
        'dockerDashComposeVersion',
        'option "dockerDashComposeVersion" is "false", which is not one of the values the option allows ("none", "v1", "v2"); the devcontainer CLI passes it on all the same, and install.sh may fail or ignore it: write one of them',
      ),
    ]);
  });

  test('null for an option is the text "null", not the default', () => {
    expect(check({ installTools: null, version: null })).toEqual([
      warning(
        'installTools',
        'option "installTools" is a boolean option but is given null; the devcontainer CLI passes the text "null" instead of the default, true: write true or false, or leave the option out for its default',
      ),
      warning(
        'version',
        'option "version" is a string option but is given null; the devcontainer CLI passes the text "null" instead of the default, "os-provided": write a string, or leave the option out for its default',
      ),
    ]);
  });

  test('an array for a string option is passed with its items joined by commas', () => {
    expect(check({ toolsToInstall: ['black', 'mypy', null] })).toEqual([
      warning(
        'toolsToInstall',
        'option "toolsToInstall" is a string option but is given an array; the devcontainer CLI passes the text "black,mypy," (its items joined with commas): write one string, e.g. "black,mypy,"',
      ),
    ]);
  });

  test('an id that is not the option but becomes its variable sets it, and is told the right name', () => {
    expect(check({ InstallTools: 'false' })).toEqual([
      warning(
        'InstallTools',
        'option "InstallTools" is not an option of this feature, but it becomes the same environment variable, INSTALLTOOLS, as option "installTools", so the devcontainer CLI lets it set that option: write "installTools"',
      ),
      warning(
        'InstallTools',
        'option "InstallTools" (that is, "installTools") is a boolean option but is given the string "false"; the devcontainer CLI passes the text "false" either way, so it works: write false, without quotes',
      ),
    ]);
  });

  test('two given ids of one variable: install.sh sees the one the CLI writes last', () => {
    // The CLI writes { ...defaults, ...given }: "installTools" in the definition's place, then "InstallTools".
    expect(check({ InstallTools: false, installTools: true })).toEqual([
      expect.objectContaining({
        option: 'InstallTools',
        message: expect.stringContaining('is not an option of this feature, but it becomes the same environment variable, INSTALLTOOLS'),
      }),
      warning(
        'InstallTools',
        'options "InstallTools" and "installTools" both become the environment variable INSTALLTOOLS; the devcontainer CLI writes a line for each and install.sh sees only the last, "InstallTools": give only one of them',
      ),
    ]);
  });

  test('the string shorthand for a feature without a "version" option is ignored', () => {
    expect(check('3.12', HELLO)).toEqual([
      warning(
        undefined,
        'the string "3.12" is shorthand for { "version": "3.12" }, but this feature has no option "version" (its options: greeting); the devcontainer CLI ignores it and installs the feature with its defaults: write its options as an object, or {} for the defaults',
      ),
    ]);
  });

  test('the string shorthand is checked as option "version"', () => {
    expect(check(3.1)).toEqual([
      warning(
        undefined,
        'option "version" (set by the shorthand value) is a string option but is given the number 3.1; the devcontainer CLI passes the text "3.1" (a JSON number keeps no trailing zeros: 3.10 is passed as "3.1"): write "3.1", in quotes',
      ),
    ]);
  });

  test('false does not leave a feature out, and true sets "version" where there is one', () => {
    expect(check(false, HELLO)).toEqual([
      warning(
        undefined,
        'false does not leave the feature out: the devcontainer CLI installs it all the same, with its defaults; remove the entry to leave the feature out',
      ),
    ]);
    expect(check(false)).toEqual([
      warning(
        undefined,
        'false does not leave the feature out: the devcontainer CLI installs it all the same, with option "version" set to "false"; remove the entry to leave the feature out',
      ),
    ]);
    expect(check(true)).toEqual([
      warning(
        undefined,
        'true is shorthand for { "version": true }, so the devcontainer CLI passes VERSION="true" to install.sh: write {} to install the feature with its default version ("os-provided")',
      ),
    ]);
  });

  test('an array where the options belong installs the defaults', () => {
    expect(check(['3.12'])).toEqual([
      warning(
        undefined,
        'the value is an array, not options: the devcontainer CLI passes its items to install.sh as the variable _ and installs the feature with its defaults; write the options as an object (its options: version, installTools, optimize, toolsToInstall), or {} for the defaults',
      ),
    ]);
  });

  test('a value the shell expands is not what install.sh sees', () => {
    expect(check({ greeting: 'hi $USER' }, HELLO)).toEqual([
      warning(
        'greeting',
        'option "greeting" is "hi $USER", which holds $: the devcontainer CLI writes it unescaped between double quotes into devcontainer-features.env, which sh sources, so install.sh may see another value (or a command in it runs): remove these characters',
      ),
    ]);
  });
});

describe('checkFeatureOptions: the CLI fails, so an error', () => {
  test('null for the whole feature fails while the CLI orders the features', () => {
    expect(check(null)).toEqual([
      error(
        undefined,
        'the value is null, on which the devcontainer CLI fails ("Cannot convert undefined or null to object") while it orders the features: write {} to install the feature with its defaults',
      ),
    ]);
  });

  test('an object for an option fails when the CLI writes the options, whatever the option', () => {
    expect(check({ installTools: { enabled: true }, version: {}, extra: {} })).toEqual([
      error(
        'installTools',
        'option "installTools" is given an object, on which the devcontainer CLI fails ("Cannot convert object to primitive value") when it writes the options for install.sh: write true or false',
      ),
      error(
        'version',
        'option "version" is given an object, on which the devcontainer CLI fails ("Cannot convert object to primitive value") when it writes the options for install.sh: write a string, in quotes',
      ),
      expect.objectContaining({ severity: 'warning', option: 'extra', message: expect.stringContaining('option "extra" is not an option of this feature') }),
      error(
        'extra',
        'option "extra" is given an object, on which the devcontainer CLI fails ("Cannot convert object to primitive value") when it writes the options for install.sh: remove it',
      ),
    ]);
  });

  test('an object inside an array fails too, as an option or as the whole value', () => {
    expect(check({ toolsToInstall: ['black', { name: 'mypy' }] })).toEqual([
      error(
        'toolsToInstall',
        'option "toolsToInstall" is given an array holding an object, on which the devcontainer CLI fails ("Cannot convert object to primitive value") when it writes the options for install.sh: write a string, in quotes',
      ),
    ]);
    expect(check([{ version: '3.12' }])).toEqual([
      error(
        undefined,
        'the value is an array holding an object, on which the devcontainer CLI fails ("Cannot convert object to primitive value"): write the options as an object, e.g. { "version": "…" }',
      ),
    ]);
  });

  test('an unbalanced double quote breaks the line sh sources before install.sh', () => {
    expect(check({ toolsToInstall: 'black"' })).toEqual([
      error(
        'toolsToInstall',
        'option "toolsToInstall" is "black\\"", which holds an unbalanced " or a trailing \\: the devcontainer CLI writes it unescaped into devcontainer-features.env as TOOLSTOINSTALL="…", and sh fails on that line ("Unterminated quoted string") before install.sh runs: remove the quote or backslash',
      ),
    ]);
  });

  test('option ids of the definition that become one variable are a clash, whatever is given', () => {
    const clashes = [
      error(
        undefined,
        'options "__home" and "_home" of this feature both become the environment variable _HOME; the devcontainer CLI writes a line for each and install.sh sees only the last, so a value given for the other is lost: the feature\'s devcontainer-feature.json must rename one of them',
      ),
      error(
        undefined,
        'options "install-docs" and "install_docs" of this feature both become the environment variable INSTALL_DOCS; the devcontainer CLI writes a line for each and install.sh sees only the last, so a value given for the other is lost: the feature\'s devcontainer-feature.json must rename one of them',
      ),
    ];

    expect(check({}, CLASHING)).toEqual(clashes);
    expect(check({ _home: '/srv/tool', channel: 'beta' }, CLASHING)).toEqual(clashes);
  });
});

describe('checkFeatureOptions: a whole devcontainer.json', () => {
  test('each feature of a real-shaped configuration gets exactly its problems', () => {
    // GIVEN
    const text = `{
      "image": "mcr.microsoft.com/devcontainers/base:bookworm",
      "features": {
        "ghcr.io/devcontainers/features/common-utils:2": { "installZsh": "true", "username": "vscode", "upgradePackages": false },
        "ghcr.io/devcontainers/features/python:1": "3.12",
        "ghcr.io/devcontainers/features/docker-in-docker:2": { "moby": "false", "dockerDashComposeVersion": "latest", "installDockerBuildx": true },
        "ghcr.io/devcontainers/feature-starter/hello:1": { "greeting": "hello" },
      },
    }`;
    const definitions: Record<string, unknown> = {
      'ghcr.io/devcontainers/features/common-utils:2': COMMON_UTILS,
      'ghcr.io/devcontainers/features/python:1': PYTHON,
      'ghcr.io/devcontainers/features/docker-in-docker:2': DOCKER_IN_DOCKER,
      'ghcr.io/devcontainers/feature-starter/hello:1': HELLO,
    };

    // WHEN
    const features = parseJsonc(text).value!.features as Record<string, unknown>;
    const found = Object.entries(features).flatMap(([ref, given]) => checkFeatureOptions(ref, definitions[ref], given).map((p) => ({ ref, ...p })));

    // THEN
    expect(found.map((p) => `${p.severity} ${p.ref} ${p.option}`)).toEqual([
      'warning ghcr.io/devcontainers/features/common-utils:2 installZsh',
      'warning ghcr.io/devcontainers/features/docker-in-docker:2 moby',
      'warning ghcr.io/devcontainers/features/docker-in-docker:2 dockerDashComposeVersion',
      'warning ghcr.io/devcontainers/features/docker-in-docker:2 installDockerBuildx',
    ]);
    for (const p of found) expect(p.message.startsWith(`feature ${p.ref}: option "${p.option}" `)).toBe(true);
  });
});

describe('checkFeatureOptions: limits', () => {
  test(`at most ${MAX_CHECKED_FEATURE_OPTIONS} given options are checked, and the rest are counted`, () => {
    const given = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`opt${i}`, {}]));

    const found = check(given);

    expect(found).toHaveLength(2 * MAX_CHECKED_FEATURE_OPTIONS + 1);
    expect(found.at(-1)).toEqual(warning(undefined, `10000 options are given; only the first ${MAX_CHECKED_FEATURE_OPTIONS} (the limit) were checked`));
  });

  test('a long value is shown cut, and a definition with many options lists the first twelve', () => {
    const options = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`o${i}`, { type: 'string', default: '' }]));

    const [problem] = check({ o1: `${'x'.repeat(10_000)}"` }, { options });
    const [unknown] = check({ nope: 'x' }, { options });

    expect(problem.message).toContain(`is "${'x'.repeat(MAX_SHOWN_OPTION_CHARS)}"…, which holds an unbalanced "`);
    expect(problem.message.length).toBeLessThan(500);
    expect(unknown.message).toContain('(its options: o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, … and 4988 more)');
  });

  test('a definition that is not an object is not checked, and says so', () => {
    expect(check({ version: '3.12' }, 'python')).toEqual([
      warning(undefined, 'its definition (devcontainer-feature.json) is not a JSON object, so the options given to it were not checked'),
    ]);
  });
});

describe('optionTextInEnvFile', () => {
  const CORPUS: [string, ReturnType<typeof optionTextInEnvFile>][] = [
    ['3.12', 'verbatim'],
    ["it's", 'verbatim'],
    ['a b\nc', 'verbatim'],
    ['${localEnv:HOME}', 'verbatim'],
    ['a"b', 'unterminated'],
    ['a\\', 'unterminated'],
    ['"', 'unterminated'],
    ['a" "b"', 'unterminated'],
    ['a" \'b', 'unterminated'],
    ['a"b"c', 'interpreted'],
    ['a" #', 'interpreted'],
    ['a\\"b', 'interpreted'],
    ['a" ; : "', 'interpreted'],
    ['x$HOME', 'interpreted'],
    ['$(echo changed)', 'interpreted'],
    ['a`', 'interpreted'],
  ];

  test.each(CORPUS)('%j is %s', (text, effect) => {
    expect(optionTextInEnvFile(text)).toBe(effect);
  });

  const sh = existsSync('/bin/sh') ? test : test.skip;
  sh('agrees with sh sourcing the line as the CLI writes it (set -e; set -a; . ./devcontainer-features.env)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'feature-options-'));
    try {
      for (const [given, effect] of CORPUS) {
        // The CLI substitutes its own variables before it writes the file.
        const text = given.replace(/\$\{localEnv:[^}]*\}/g, '/home/someone');
        const file = join(dir, 'devcontainer-features.env');
        writeFileSync(file, `GREETING="${text}"\nOTHER="x"`);
        let seen: string | undefined;
        try {
          seen = execFileSync('/bin/sh', ['-c', 'set -e; set -a; . "$1"; set +a; printf %s "$GREETING"', 'sh', file], {
            cwd: dir,
            env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' },
            stdio: ['ignore', 'pipe', 'ignore'],
          }).toString();
        } catch {
          seen = undefined;
        }
        if (effect === 'verbatim') expect([text, seen]).toEqual([text, text]);
        if (effect === 'unterminated') expect([text, seen]).toEqual([text, undefined]);
        if (effect === 'interpreted') expect([text, seen === text]).toEqual([text, false]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('featureDefinitionOfManifest', () => {
  const COLOR = {
    id: 'color',
    version: '1.0.0',
    name: 'A feature to remind you of your favorite color',
    options: { favorite: { type: 'string', enum: ['red', 'gold', 'green'], default: 'red', description: 'Choose your favorite color.' } },
  };

  /** The manifest as `devcontainer features publish` (0.89) writes it: its fields in its order, the definition as `JSON.stringify` in the annotation. */
  function publishedManifest(
    definition: unknown,
    annotations: Record<string, string> = {
      [DEVCONTAINER_ARTIFACT.metadataAnnotation]: JSON.stringify(definition),
      'com.github.package.type': 'devcontainer_feature',
    },
  ): Buffer {
    return Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.devcontainers', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
        layers: [
          {
            mediaType: 'application/vnd.devcontainers.layer.v1+tar',
            digest: 'sha256:0bb92d2da46d760c599d0a41ed88d52521209408b529761417090b62ee16dfd1',
            size: 3584,
            annotations: { 'org.opencontainers.image.title': 'devcontainer-feature-color.tgz' },
          },
        ],
        annotations,
      }),
    );
  }

  test('reads the definition from the manifest the CLI publishes (its own test gives this manifest digest)', () => {
    // GIVEN
    const manifest = publishedManifest(COLOR);
    expect(`sha256:${createHash('sha256').update(manifest).digest('hex')}`).toBe('sha256:dd328c25cc7382aaf4e9ee10104425d9a2561b47fe238407f6c0f77b3f8409fc');

    // WHEN
    const definition = featureDefinitionOfManifest(manifest);

    // THEN
    expect(definition).toEqual(COLOR);
    expect(checkFeatureOptions('ghcr.io/devcontainers/feature-starter/color:1', definition, { favorite: 'blue' })).toEqual([
      {
        severity: 'warning',
        option: 'favorite',
        message:
          'feature ghcr.io/devcontainers/feature-starter/color:1: option "favorite" is "blue", which is not one of the values the option allows ("red", "gold", "green"); the devcontainer CLI passes it on all the same, and install.sh may fail or ignore it: write one of them',
      },
    ]);
  });

  test('reads a Uint8Array view into a larger buffer', () => {
    const manifest = publishedManifest(COLOR);
    const padded = new Uint8Array(manifest.length + 8);
    padded.set(manifest, 4);

    expect(featureDefinitionOfManifest(padded.subarray(4, 4 + manifest.length))).toEqual(COLOR);
  });

  test.each<[string, Uint8Array]>([
    ['a manifest without the annotation (published by an old CLI)', publishedManifest(COLOR, { 'com.github.package.type': 'devcontainer_feature' })],
    ['an annotation that is not JSON', publishedManifest(COLOR, { [DEVCONTAINER_ARTIFACT.metadataAnnotation]: '{ "id": ' })],
    ['an annotation that is a JSON array', publishedManifest(COLOR, { [DEVCONTAINER_ARTIFACT.metadataAnnotation]: '[]' })],
    ['bytes that are not JSON', Buffer.from('not json')],
    ['a manifest that is a JSON array', Buffer.from('[]')],
    ['a manifest larger than the OCI limit', Buffer.concat([publishedManifest(COLOR), Buffer.alloc(MAX_FEATURE_MANIFEST_BYTES, 0x20)])],
  ])('undefined for %s', (_name, manifest) => {
    expect(featureDefinitionOfManifest(manifest)).toBeUndefined();
  });
});
