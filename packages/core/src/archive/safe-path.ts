/**
 * The paths a configuration may contain: relative, POSIX, normalised, inside
 * the root. The same rule applies to a folder being packed and to a zip being
 * unpacked (zip-slip).
 */

/**
 * What is wrong with a path inside a configuration, or undefined when it is safe:
 * not absolute, no `..` or `.` segments, no backslashes or drive letters, no
 * control characters.
 */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'the path is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'the path contains control characters: rename the file';
  if (path.includes('\\')) return "the path contains a backslash: use '/' between folders and rename files whose names contain '\\'";
  if (path.startsWith('/')) return 'the path is absolute: paths must be relative to the root of the configuration';
  if (/^[a-zA-Z]:/.test(path)) return 'the path starts with a drive letter: paths must be relative to the root of the configuration';
  const segments = path.split('/');
  if (segments.includes('..')) return "the path contains '..': it would leave the root of the configuration";
  if (segments.some((s) => s === '' || s === '.')) return "the path has an empty or '.' segment: use a normalised path such as 'a/b'";
  return undefined;
}

/** A path quoted for a message when it holds characters a terminal would not show as they are. */
export function displayPath(path: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(path) || path.length === 0 ? JSON.stringify(path) : path;
}
