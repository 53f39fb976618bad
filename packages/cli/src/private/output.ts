/**
 * Where `dcf` writes: data to stdout (as text, or as JSON with `--json`), notes
 * and errors to stderr. Colour only when the stream is a terminal and NO_COLOR
 * is not set.
 */
import type { OutputStream } from '../cli-environment';

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const COLOUR: Style = { bold: ansi(1, 22), dim: ansi(2, 22), red: ansi(31, 39), green: ansi(32, 39), yellow: ansi(33, 39), cyan: ansi(36, 39) };
const PLAIN: Style = { bold: (t) => t, dim: (t) => t, red: (t) => t, green: (t) => t, yellow: (t) => t, cyan: (t) => t };

export function colourWanted(stream: OutputStream, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

export class Output {
  /** Styles for stdout. */
  readonly style: Style;
  /** Styles for stderr. */
  readonly errStyle: Style;

  constructor(
    readonly stdout: OutputStream,
    readonly stderr: OutputStream,
    readonly json: boolean,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    this.style = colourWanted(stdout, env) ? COLOUR : PLAIN;
    this.errStyle = colourWanted(stderr, env) ? COLOUR : PLAIN;
  }

  /** A line of data for people (stdout). */
  print(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** A JSON document (stdout). */
  data(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A note about what is happening (stderr), left out with --json so that stdout stays pure data and stderr quiet. */
  note(text: string): void {
    if (!this.json) this.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`${this.errStyle.yellow('warning:')} ${text}\n`);
  }

  error(text: string): void {
    this.stderr.write(`${this.errStyle.red('error:')} ${text}\n`);
  }

  /** Whether progress bars may be drawn: stderr is a terminal and the output is not JSON. */
  get interactive(): boolean {
    return this.stderr.isTTY === true && !this.json;
  }
}

/** Rows as aligned columns. */
export function table(rows: readonly (readonly string[])[], style?: (column: number, text: string) => string): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const padded = i === row.length - 1 ? cell : cell + ' '.repeat(widths[i] - visibleLength(cell));
        return style ? style(i, padded) : padded;
      })
      .join('  ')
      .trimEnd(),
  );
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[\d+m/g, '').length;
}

/** `3m 12s`, for durations. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
