/**
 * Reading `devcontainer.json` the way the devcontainer CLI does: JSON with comments
 * and trailing commas (JSONC). Problems come back with their line and column.
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

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

/** Parses JSONC as the devcontainer CLI does (comments and trailing commas allowed). */
export function parseJsonc(text: string): JsoncResult {
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
