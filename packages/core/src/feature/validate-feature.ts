/**
 * Validation of a feature configuration: the files of one feature as it is
 * uploaded (`devcontainer-feature.json` and `install.sh` at the root, an optional
 * `test/` folder). The CLI (`dcf validate`), the pipeline's Test stage and
 * `dcf local` all run these rules, so a feature fails the same way everywhere.
 */
import { getNodeValue, parseTree, type Node } from 'jsonc-parser';
import { InvalidConfigurationError, type ConfigProblem, type FileSet } from '../config-files';
import { parseJsonc, positionOf } from '../config/devcontainer-json';
import { idProblem } from '../naming';
import { parseSemver } from '../semver';
import { featureOptionVariable } from './feature-options';
import { featureVersionProblem } from './feature-tags';
import { referenceProblem } from './feature-reference';

/** The metadata file at the root of a feature. */
export const FEATURE_METADATA_FILE = 'devcontainer-feature.json';
/** The script the devcontainer CLI runs to install a feature. */
export const FEATURE_INSTALL_SCRIPT = 'install.sh';
/** The optional folder of tests, in the layout of `devcontainer features test`. */
export const FEATURE_TEST_DIR = 'test';
/** The default test of a feature, run with the feature's default options. */
export const FEATURE_TEST_SCRIPT = `${FEATURE_TEST_DIR}/test.sh`;
/** Scenarios: named devcontainer configurations, each tested by `test/<scenario>.sh`. */
export const FEATURE_SCENARIOS_FILE = `${FEATURE_TEST_DIR}/scenarios.json`;

/** One option of a feature, as `devcontainer-feature.json` declares it. */
export interface FeatureOption {
  readonly type: 'boolean' | 'string';
  readonly default: boolean | string;
  readonly description?: string;
  /** The only values allowed (string options). */
  readonly enum?: readonly string[];
  /** Suggested values; others are allowed (string options). */
  readonly proposals?: readonly string[];
}

/** The fields of `devcontainer-feature.json` that the factory reads; the others pass through unchanged. */
export interface FeatureMetadata {
  readonly id: string;
  readonly version: string;
  /** Required by the devcontainer CLI to package the feature. */
  readonly name?: string;
  readonly description?: string;
  readonly options?: Readonly<Record<string, FeatureOption>>;
  readonly installsAfter?: readonly string[];
  readonly dependsOn?: Readonly<Record<string, unknown>>;
  readonly [property: string]: unknown;
}

export interface ValidateFeatureOptions {
  /**
   * The catalogue id the feature is uploaded as; `id` in `devcontainer-feature.json` must equal it.
   * @default - any valid id
   */
  readonly expectedId?: string;
}

type Kind = 'string' | 'boolean' | 'array of strings' | 'object' | 'object of strings' | 'array' | 'string or array' | 'command';

/** The properties of the devcontainer feature schema and their types (`id`, `version`, `options`, `installsAfter`, `dependsOn` have their own rules). */
const PROPERTY_KINDS: Readonly<Record<string, Kind>> = {
  name: 'string',
  description: 'string',
  documentationURL: 'string',
  licenseURL: 'string',
  keywords: 'array of strings',
  containerEnv: 'object of strings',
  privileged: 'boolean',
  init: 'boolean',
  capAdd: 'array of strings',
  securityOpt: 'array of strings',
  entrypoint: 'string',
  customizations: 'object',
  legacyIds: 'array of strings',
  deprecated: 'boolean',
  mounts: 'array',
  onCreateCommand: 'command',
  updateContentCommand: 'command',
  postCreateCommand: 'command',
  postStartCommand: 'command',
  postAttachCommand: 'command',
};
const KNOWN_PROPERTIES = ['id', 'version', 'options', 'installsAfter', 'dependsOn', ...Object.keys(PROPERTY_KINDS)];
const OPTION_PROPERTIES = ['type', 'default', 'description', 'enum', 'proposals'];
const OPTION_ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Option ids that name a property every JavaScript object has: tools that read options into a plain object would be fooled by them. */
const RESERVED_OPTION_IDS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const SCENARIO_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Every problem of a feature configuration; empty when it is valid. Each problem
 * names the file, the line and column where known, and what to change.
 */
export function validateFeatureFiles(files: FileSet, options: ValidateFeatureOptions = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!files.has(FEATURE_INSTALL_SCRIPT) && files.has(FEATURE_METADATA_FILE)) {
    problems.push({
      file: FEATURE_INSTALL_SCRIPT,
      message: `missing: a feature needs ${FEATURE_INSTALL_SCRIPT} beside ${FEATURE_METADATA_FILE}; the devcontainer CLI runs it as root to install the feature`,
    });
  }
  const metadata = files.get(FEATURE_METADATA_FILE);
  if (!metadata) {
    problems.push(missingMetadataProblem(files));
  } else {
    problems.push(...metadataProblems(new TextDecoder().decode(metadata), options));
  }
  problems.push(...testProblems(files));
  return problems;
}

/**
 * The metadata of a valid feature.
 * @throws InvalidConfigurationError listing every problem when the feature is not valid
 */
export function readFeatureMetadata(files: FileSet, options: ValidateFeatureOptions = {}): FeatureMetadata {
  const problems = validateFeatureFiles(files, options);
  if (problems.length > 0) throw new InvalidConfigurationError(problems);
  return parseJsonc(new TextDecoder().decode(files.get(FEATURE_METADATA_FILE)!)).value as FeatureMetadata;
}

function missingMetadataProblem(files: FileSet): ConfigProblem {
  const nested = [...files.keys()].find((p) => p.endsWith(`/${FEATURE_METADATA_FILE}`));
  if (nested) {
    const folder = nested.slice(0, -FEATURE_METADATA_FILE.length - 1);
    return {
      file: FEATURE_METADATA_FILE,
      message: `missing at the root: found ${nested}; zip the contents of '${folder}', not the folder itself, so that ${FEATURE_METADATA_FILE} and ${FEATURE_INSTALL_SCRIPT} are at the root`,
    };
  }
  return { file: FEATURE_METADATA_FILE, message: `missing: a feature needs ${FEATURE_METADATA_FILE} at its root, with at least "id", "version" and "name"` };
}

/** Problems of one JSONC file, with positions from its syntax tree. */
class Located {
  private readonly found: ConfigProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly text: string,
    readonly root: Node,
  ) {}

  /** The problems, in the order of the file. */
  get problems(): ConfigProblem[] {
    return [...this.found].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  }

  at(node: Node | undefined, message: string): void {
    this.found.push({ file: this.file, ...positionOf(this.text, (node ?? this.root).offset), message });
  }

  /** The node at `path`; each object's properties are indexed once, so that looking up every option of a large feature stays linear. */
  node(path: (string | number)[]): Node | undefined {
    let node: Node | undefined = this.root;
    for (const segment of path) {
      if (!node) return undefined;
      if (node.type === 'object' && typeof segment === 'string') node = this.propertiesOf(node).get(segment);
      else if (node.type === 'array' && typeof segment === 'number') node = node.children?.[segment];
      else return undefined;
    }
    return node;
  }

  /** The value node of each property of an object node (the first, when a key repeats, as jsonc-parser's findNodeAtLocation does). */
  propertiesOf(object: Node): Map<string, Node> {
    let index = this.index.get(object);
    if (!index) {
      index = new Map();
      for (const property of object.children ?? []) {
        const [key, value] = property.children ?? [];
        if (typeof key?.value === 'string' && value && !index.has(key.value)) index.set(key.value, value);
      }
      this.index.set(object, index);
    }
    return index;
  }

  private readonly index = new WeakMap<Node, Map<string, Node>>();

  /** The property node (key + value) of a value node, for pointing at the key. */
  keyOf(value: Node | undefined): Node | undefined {
    return value?.parent?.type === 'property' ? value.parent.children?.[0] : value;
  }
}

function parseLocated(file: string, text: string, problems: ConfigProblem[]): { value: Record<string, unknown>; doc: Located } | undefined {
  const parsed = parseJsonc(text);
  if (!parsed.value) {
    problems.push(
      ...parsed.problems.map((p) => ({
        file,
        line: p.line,
        column: p.column,
        message: `${p.message}: fix the JSON syntax (comments and trailing commas are allowed)`,
      })),
    );
    return undefined;
  }
  return { value: parsed.value, doc: new Located(file, text, parseTree(text, [], { allowTrailingComma: true, disallowComments: false })!) };
}

function metadataProblems(text: string, options: ValidateFeatureOptions): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const parsed = parseLocated(FEATURE_METADATA_FILE, text, problems);
  if (!parsed) return problems;
  const { value: json, doc } = parsed;

  checkId(json.id, doc, options.expectedId);
  checkVersion(json.version, doc);
  if (json.name === undefined)
    doc.at(
      undefined,
      `"name" is missing: the devcontainer CLI refuses to package a feature without one; add a display name, e.g. "name": "${titleOf(options.expectedId ?? (typeof json.id === 'string' ? json.id : 'My feature'))}"`,
    );
  for (const [key, kind] of Object.entries(PROPERTY_KINDS)) {
    if (json[key] !== undefined) checkKind(json[key], kind, `"${key}"`, doc.node([key]), doc);
  }
  if (json.options !== undefined) checkOptions(json.options, doc);
  if (json.installsAfter !== undefined) checkInstallsAfter(json.installsAfter, doc);
  if (json.dependsOn !== undefined) checkDependsOn(json.dependsOn, doc);
  for (const key of Object.keys(json)) {
    if (KNOWN_PROPERTIES.includes(key)) continue;
    const meant = KNOWN_PROPERTIES.find((k) => nearMiss(key, k));
    if (meant) doc.at(doc.keyOf(doc.node([key])), `unknown property "${key}": did you mean "${meant}"?`);
  }
  return doc.problems;
}

function titleOf(id: string): string {
  return id
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

function checkId(id: unknown, doc: Located, expectedId: string | undefined): void {
  const node = doc.node(['id']);
  if (id === undefined) {
    doc.at(undefined, `"id" is missing: add "id": "${expectedId ?? '<feature-id>'}"`);
    return;
  }
  if (typeof id !== 'string') {
    doc.at(node, `"id" must be a string, e.g. "${expectedId ?? 'my-feature'}"`);
    return;
  }
  const problem = idProblem(id, 'feature id');
  if (problem) doc.at(node, `"id": ${problem}`);
  else if (expectedId !== undefined && id !== expectedId) {
    doc.at(node, `"id" is '${id}' but the feature is catalogued and uploaded as '${expectedId}': set "id": "${expectedId}", or upload it as '${id}'`);
  }
}

function checkVersion(version: unknown, doc: Located): void {
  const node = doc.node(['version']);
  if (version === undefined) {
    doc.at(undefined, '"version" is missing: add a semantic version, e.g. "version": "1.0.0"');
    return;
  }
  if (typeof version !== 'string') {
    doc.at(node, `"version" must be a string holding a semantic version, e.g. "1.0.0"`);
    return;
  }
  const parsed = parseSemver(version);
  const published = featureVersionProblem(version);
  if (published?.includes('is not a version the factory publishes')) {
    // v1.2.3, 1.2.3+build.1: the devcontainer CLI would publish them; say why the factory does not.
    doc.at(node, `"version" ${published}`);
  } else if (!parsed) {
    const parts = version.replace(/^v/, '').split('.');
    const hint = /^v?\d+(\.\d+)?$/.test(version) ? ` (try "${[...parts, '0', '0'].slice(0, 3).join('.')}")` : '';
    doc.at(node, `"version" '${version}' is not a semantic version: use MAJOR.MINOR.PATCH, e.g. "1.0.0"${hint}`);
  } else if (parsed.prerelease.length > 0) {
    doc.at(
      node,
      // Which tags the CLI would move depends on the registry's releases: the publish check names them.
      `"version" '${version}' is a pre-release, and the factory publishes feature releases only (devcontainer features publish treats a pre-release as a release and would move the 'X', 'X.Y' or 'latest' tags it is newest of): publish a release version (MAJOR.MINOR.PATCH) instead`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKind(value: unknown, kind: Kind, what: string, node: Node | undefined, doc: Located): boolean {
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  const ok =
    kind === 'string'
      ? typeof value === 'string'
      : kind === 'boolean'
        ? typeof value === 'boolean'
        : kind === 'array of strings'
          ? strings(value)
          : kind === 'object'
            ? isObject(value)
            : kind === 'object of strings'
              ? isObject(value) && Object.values(value).every((v) => typeof v === 'string')
              : kind === 'array'
                ? Array.isArray(value)
                : kind === 'string or array'
                  ? typeof value === 'string' || strings(value)
                  : typeof value === 'string' || strings(value) || (isObject(value) && Object.values(value).every((v) => typeof v === 'string' || strings(v)));
  if (!ok) {
    const expected =
      kind === 'command'
        ? 'a command: a string, an array of strings, or an object of those'
        : kind.startsWith('a') || kind.startsWith('o')
          ? `an ${kind}`
          : `a ${kind}`;
    doc.at(node, `${what} must be ${expected}, not ${describe(value)}`);
  }
  return ok;
}

function checkOptions(options: unknown, doc: Located): void {
  if (!checkKind(options, 'object', '"options"', doc.node(['options']), doc)) return;
  const envNames = new Map<string, string>();
  const optionsNode = doc.node(['options']);
  // The ids come from the syntax tree, not the parsed object: a parser may turn a "__proto__" key into the object's prototype rather than an entry.
  const entries: [string, unknown][] =
    optionsNode?.type === 'object'
      ? [...doc.propertiesOf(optionsNode)].map(([id, valueNode]) => [
          id,
          Object.hasOwn(options as object, id) ? (options as Record<string, unknown>)[id] : getNodeValue(valueNode),
        ])
      : Object.entries(options as Record<string, unknown>);
  for (const [optionId, option] of entries) {
    const where = `option "${optionId}"`;
    const node = doc.node(['options', optionId]);
    if (RESERVED_OPTION_IDS.has(optionId)) {
      doc.at(
        doc.keyOf(node),
        `${where}: "${optionId}" is a name every JavaScript object already has, and tools that read the options would mistake it; rename the option`,
      );
      continue;
    } else if (!OPTION_ID.test(optionId)) {
      doc.at(
        doc.keyOf(node),
        `${where}: an option id becomes an environment variable of install.sh; use letters, digits, '_' and '-', starting with a letter or '_'`,
      );
    } else {
      // As the devcontainer CLI names it (getSafeId): "_a" and "__a" both become _A, "a-b" and "a_b" both A_B.
      const env = featureOptionVariable(optionId);
      const clash = envNames.get(env);
      if (clash) {
        doc.at(
          doc.keyOf(node),
          `${where} and option "${clash}" both become the environment variable ${env}: the devcontainer CLI writes a line for each into devcontainer-features.env and install.sh sees only the last, so a value given for the other is lost; rename one of them`,
        );
      } else {
        envNames.set(env, optionId);
      }
    }
    if (!isObject(option)) {
      doc.at(node, `${where} must be an object like { "type": "string", "default": "…" }, not ${describe(option)}`);
      continue;
    }
    checkOption(option, optionId, where, doc);
  }
}

function checkOption(option: Record<string, unknown>, optionId: string, where: string, doc: Located): void {
  const node = (key?: string) => doc.node(key ? ['options', optionId, key] : ['options', optionId]);
  for (const key of Object.keys(option)) {
    if (!OPTION_PROPERTIES.includes(key))
      doc.at(doc.keyOf(node(key)), `${where}: unknown property "${key}"; an option has ${OPTION_PROPERTIES.map((p) => `"${p}"`).join(', ')}`);
  }
  const type = option.type;
  if (type !== 'string' && type !== 'boolean') {
    doc.at(
      node(type === undefined ? undefined : 'type'),
      `${where}: "type" must be "string" or "boolean"${type === undefined ? ' (it is missing)' : `, not ${describe(type)}`}`,
    );
    return;
  }
  if (option.description !== undefined) checkKind(option.description, 'string', `${where}: "description"`, node('description'), doc);
  if (option.default === undefined) {
    doc.at(
      node(),
      `${where}: "default" is missing: give the value used when a devcontainer.json does not set the option${type === 'boolean' ? ' (true or false)' : ''}`,
    );
  } else if (typeof option.default !== type) {
    doc.at(node('default'), `${where}: "default" must be a ${type}, as "type" says, not ${describe(option.default)}`);
  }
  if (type === 'boolean') {
    for (const key of ['enum', 'proposals']) {
      if (option[key] !== undefined) doc.at(doc.keyOf(node(key)), `${where}: "${key}" is for string options; remove it from this boolean option`);
    }
    return;
  }
  if (option.enum !== undefined && option.proposals !== undefined) {
    doc.at(doc.keyOf(node('proposals')), `${where}: give "enum" (only these values) or "proposals" (suggestions), not both`);
  }
  for (const key of ['enum', 'proposals'] as const) {
    if (option[key] === undefined) continue;
    if (!checkKind(option[key], 'array of strings', `${where}: "${key}"`, node(key), doc)) continue;
    if (key === 'enum' && (option.enum as string[]).length === 0)
      doc.at(node('enum'), `${where}: "enum" is empty, so no value would be allowed: list the allowed values`);
  }
  if (Array.isArray(option.enum) && typeof option.default === 'string' && option.enum.length > 0 && !option.enum.includes(option.default)) {
    doc.at(
      node('default'),
      `${where}: "default" '${option.default}' is not one of "enum" (${option.enum.map((v) => JSON.stringify(v)).join(', ')}): add it to "enum" or change the default`,
    );
  }
}

function checkInstallsAfter(installsAfter: unknown, doc: Located): void {
  if (!checkKind(installsAfter, 'array of strings', '"installsAfter"', doc.node(['installsAfter']), doc)) return;
  (installsAfter as string[]).forEach((ref, i) => {
    const node = doc.node(['installsAfter', i]);
    const problem = referenceProblem(ref, { versioned: false });
    if (problem) doc.at(node, `"installsAfter" entry '${ref}': ${problem}`);
  });
}

function checkDependsOn(dependsOn: unknown, doc: Located): void {
  if (!checkKind(dependsOn, 'object', '"dependsOn"', doc.node(['dependsOn']), doc)) return;
  for (const [ref, value] of Object.entries(dependsOn as Record<string, unknown>)) {
    const node = doc.node(['dependsOn', ref]);
    const problem = referenceProblem(ref, { versioned: true });
    if (problem) doc.at(doc.keyOf(node), `"dependsOn" key '${ref}': ${problem}`);
    if (typeof value === 'string') continue;
    if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string' || typeof v === 'boolean')) {
      doc.at(
        node,
        `"dependsOn" '${ref}': the value must be the options to install it with, an object of strings and booleans like { "version": "latest" } (or {}), not ${describe(value)}`,
      );
    }
  }
}

function testProblems(files: FileSet): ConfigProblem[] {
  const tests = [...files.keys()].filter((p) => p.startsWith(`${FEATURE_TEST_DIR}/`));
  if (tests.length === 0) return [];
  const problems: ConfigProblem[] = [];
  const scenariosBytes = files.get(FEATURE_SCENARIOS_FILE);
  if (!files.has(FEATURE_TEST_SCRIPT) && !scenariosBytes) {
    problems.push({
      file: `${FEATURE_TEST_DIR}/`,
      message: `has no ${FEATURE_TEST_SCRIPT} and no ${FEATURE_SCENARIOS_FILE}, so 'devcontainer features test' would run nothing: add ${FEATURE_TEST_SCRIPT} (run with the default options) or scenarios`,
    });
  }
  if (!scenariosBytes) return problems;
  const parsed = parseLocated(FEATURE_SCENARIOS_FILE, new TextDecoder().decode(scenariosBytes), problems);
  if (!parsed) return problems;
  const { value: scenarios, doc } = parsed;
  for (const [name, scenario] of Object.entries(scenarios)) {
    const node = doc.node([name]);
    if (!SCENARIO_NAME.test(name)) {
      doc.at(
        doc.keyOf(node),
        `scenario '${name}': its name is also the name of its script, ${FEATURE_TEST_DIR}/<name>.sh; use letters, digits, '_', '-' and '.'`,
      );
      continue;
    }
    if (!isObject(scenario)) {
      doc.at(
        node,
        `scenario '${name}' must be a devcontainer configuration object, e.g. { "image": "…", "features": { "<id>": {} } }, not ${describe(scenario)}`,
      );
    } else if (scenario.image === undefined && scenario.build === undefined && scenario.dockerComposeFile === undefined) {
      doc.at(node, `scenario '${name}' names no "image" (or "build"): say which container to install the feature into`);
    }
    if (!files.has(`${FEATURE_TEST_DIR}/${name}.sh`)) {
      doc.at(
        doc.keyOf(node),
        `scenario '${name}' has no script: add ${FEATURE_TEST_DIR}/${name}.sh, which 'devcontainer features test' runs inside that container`,
      );
    }
  }
  return [...problems, ...doc.problems];
}

/** True when `a` looks like a typo of `b`: same letters ignoring case, or at most two edits for longer names. */
function nearMiss(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (Math.min(a.length, b.length) < 5 || Math.abs(a.length - b.length) > 2) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] <= 2;
}
