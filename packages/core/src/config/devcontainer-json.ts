/**
 * Reading `devcontainer.json` the way the devcontainer CLI does: JSON with comments
 * and trailing commas (JSONC). Problems come back with their line and column.
 */
import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type JSONPath, type Node, type ParseError } from 'jsonc-parser';

/** Where, inside an image configuration, the factory keeps its own settings. */
export const FACTORY_CUSTOMIZATION_KEY = 'devcontainer-factory';

/** Paths the devcontainer CLI accepts for an image configuration, in the order it looks. */
export const DEVCONTAINER_JSON_PATHS = ['.devcontainer/devcontainer.json', '.devcontainer.json'] as const;

/** The conventional test script of an image (as in the devcontainers/images repository). */
export const IMAGE_TEST_SCRIPT = 'test-project/test.sh';

export interface JsoncProblem {
  readonly message: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface JsoncResult {
  /** The parsed value; undefined when the text is not an object. */
  readonly value: Record<string, unknown> | undefined;
  readonly problems: readonly JsoncProblem[];
}

/** Line and column (1-based) of an offset in a text. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Where a value of a JSONC document is: `locate(['features', ref])` gives the line and
 * column of that property (its key), or of the nearest enclosing one that exists; `{}` for
 * a text that does not parse. The tree is built once, for all the lookups.
 */
export function jsonLocator(text: string): (path: JSONPath) => { line?: number; column?: number } {
  let tree: Node | undefined;
  try {
    tree = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  } catch {
    tree = undefined;
  }
  return (path) => {
    if (!tree) return {};
    let node: Node | undefined;
    for (let depth = path.length; depth >= 0 && !node; depth--) node = findNodeAtLocation(tree, path.slice(0, depth));
    return node ? positionOf(text, node.parent?.type === 'property' ? node.parent.offset : node.offset) : {};
  };
}

/** Deepest nesting of objects and arrays that {@link parseJsonc} reads: 64 (real configurations nest less than 10). */
export const MAX_JSON_DEPTH = 64;

/**
 * Where the text's nesting of `{` and `[` first goes deeper than `maxDepth`, or
 * undefined. Strings and comments are skipped; one pass, no recursion, so a
 * hostile file nested 100,000 deep is measured without overflowing the stack.
 */
function tooDeepAt(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      while (i < text.length && text.charCodeAt(i) !== 0x0a) i++;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a /* * */) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

/**
 * Parses JSONC as the devcontainer CLI does (comments and trailing commas allowed).
 * Text nested deeper than {@link MAX_JSON_DEPTH} is a problem, found before parsing.
 */
export function parseJsonc(text: string): JsoncResult {
  const deep = tooDeepAt(text, MAX_JSON_DEPTH);
  if (deep !== undefined) {
    return {
      value: undefined,
      problems: [{ message: `objects and arrays are nested more than ${MAX_JSON_DEPTH} levels deep (the limit): flatten the file`, ...positionOf(text, deep) }],
    };
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const problems: JsoncProblem[] = errors.map((e) => ({ message: printParseErrorCode(e.error), ...positionOf(text, e.offset) }));
  if (problems.length === 0 && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    problems.push({ message: 'the top level must be a JSON object ({ … })', line: 1, column: 1 });
  }
  return { value: problems.length === 0 ? (value as Record<string, unknown>) : undefined, problems };
}

/**
 * The factory settings of an image configuration:
 * `"customizations": { "devcontainer-factory": { "version": "1.2.3" } }`.
 */
export interface FactoryCustomization {
  /** Semantic version of the image; absent when the image is released without version tags. */
  readonly version?: string;
}

/** The factory's customization block of a parsed devcontainer.json, or `{}`. */
export function factoryCustomization(config: Record<string, unknown>): FactoryCustomization {
  const customizations = config.customizations;
  if (!customizations || typeof customizations !== 'object') return {};
  const mine = (customizations as Record<string, unknown>)[FACTORY_CUSTOMIZATION_KEY];
  if (!mine || typeof mine !== 'object') return {};
  const version = (mine as Record<string, unknown>).version;
  return typeof version === 'string' ? { version } : {};
}
