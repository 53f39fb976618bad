/**
 * The paths a configuration may contain: relative, POSIX, normalised, inside
 * the root, and short enough for the file systems it is extracted on. The same
 * rule applies to a folder being packed and to a zip or tarball being unpacked
 * (zip-slip).
 */
import { MAX_ARCHIVE_NAME_BYTES, MAX_ARCHIVE_PATH_BYTES } from './archive-limits';

/** Characters of a path shown in a message before it is cut short. */
const SHOWN_CHARACTERS = 100;

/**
 * What is wrong with a path inside a configuration, or undefined when it is safe:
 * not absolute, no `..` or `.` segments, no backslashes or drive letters, no
 * control characters, at most {@link MAX_ARCHIVE_PATH_BYTES} in all and
 * {@link MAX_ARCHIVE_NAME_BYTES} per file or folder name.
 */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'the path is empty';
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_ARCHIVE_PATH_BYTES) {
    return (
      `the path is ${bytes} bytes long, over the limit of ${MAX_ARCHIVE_PATH_BYTES} bytes (MAX_ARCHIVE_PATH_BYTES): ` +
      'the build extracts it under folders of its own, where a longer path fails (ENAMETOOLONG); use fewer or shorter folder names'
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'the path contains control characters: rename the file';
  if (path.includes('\\')) return "the path contains a backslash: use '/' between folders and rename files whose names contain '\\'";
  if (path.startsWith('/')) return 'the path is absolute: paths must be relative to the root of the configuration';
  if (/^[a-zA-Z]:/.test(path)) return 'the path starts with a drive letter: paths must be relative to the root of the configuration';
  const segments = path.split('/');
  if (segments.includes('..')) return "the path contains '..': it would leave the root of the configuration";
  if (segments.some((s) => s === '' || s === '.')) return "the path has an empty or '.' segment: use a normalised path such as 'a/b'";
  const long = segments.find((s) => Buffer.byteLength(s) > MAX_ARCHIVE_NAME_BYTES);
  if (long !== undefined) {
    return (
      `the name '${shorten(long)}' is ${Buffer.byteLength(long)} bytes long, over the limit of ${MAX_ARCHIVE_NAME_BYTES} bytes per file or folder name (MAX_ARCHIVE_NAME_BYTES): ` +
      'file systems cannot create it (ENAMETOOLONG); rename it'
    );
  }
  return undefined;
}

/**
 * A path for a message: quoted when it holds characters a terminal would not show
 * as they are, and cut short (with its length in bytes) when it is longer than a
 * line.
 */
export function displayPath(path: string): string {
  // eslint-disable-next-line no-control-regex
  const quoted = /[\u0000-\u001f\u007f]/.test(path) || path.length === 0 ? JSON.stringify(path) : path;
  return quoted.length > SHOWN_CHARACTERS ? `${shorten(quoted)} (${Buffer.byteLength(path)} bytes)` : quoted;
}

/** The start and the end of a long text, without a code point cut in half. */
function shorten(text: string): string {
  if (text.length <= SHOWN_CHARACTERS) return text;
  const whole = (part: string) => part.replace(/^[\udc00-\udfff]|[\ud800-\udbff]$/g, '');
  return `${whole(text.slice(0, SHOWN_CHARACTERS - 20))}…${whole(text.slice(-19))}`;
}
