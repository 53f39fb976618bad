import type { ArchiveContent } from '@devcontainer-factory/core';

const enc = (s: string) => new TextEncoder().encode(s);

/** An uploaded feature: `devcontainer-feature.json` and `install.sh`, and any extra files. */
export function featureUpload(
  id: string,
  version: string,
  options: { install?: string; extra?: Record<string, string>; metadata?: Record<string, unknown> } = {},
): ArchiveContent {
  const files = new Map<string, Uint8Array>([
    ['devcontainer-feature.json', enc(JSON.stringify({ id, version, name: `The ${id} feature`, ...options.metadata }, null, 2))],
    ['install.sh', enc(`#!/bin/sh\nset -e\n${options.install ?? `echo ${id}`}\n`)],
  ]);
  for (const [path, text] of Object.entries(options.extra ?? {})) files.set(path, enc(text));
  return { files, executables: new Set(['install.sh']) };
}
