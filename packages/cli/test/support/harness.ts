/**
 * Runs `dcf` through `exec` with captured output, a temp working folder and a
 * fake clock, and writes configurations to disk for it.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { exec, type CliEnvironment, type Clock, type OutputStream } from '../../src';

// Never read the developer's AWS configuration or the instance metadata service.
process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
delete process.env.AWS_PROFILE;
delete process.env.AWS_ENDPOINT_URL;
delete process.env.AWS_ENDPOINT_URL_S3;

export class CapturedStream implements OutputStream {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 100,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** A clock whose sleep returns at once and moves time forward. */
export class FakeClock implements Clock {
  constructor(public time = Date.UTC(2025, 0, 1, 12, 0, 0)) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
  }
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions extends Partial<CliEnvironment> {
  readonly tty?: boolean;
}

/** A temp folder for one test, removed by `cleanup`. */
export class Workspace {
  readonly root = mkdtempSync(join(tmpdir(), 'dcf-cli-'));
  readonly clock = new FakeClock();

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** Writes files (path → text) under `dir`; paths ending in .sh are executable. */
  write(dir: string, files: Record<string, string | Uint8Array>): string {
    for (const [rel, text] of Object.entries(files)) {
      const file = this.path(dir, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      chmodSync(file, rel.endsWith('.sh') ? 0o755 : 0o644);
    }
    return this.path(dir);
  }

  async run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    const stdout = new CapturedStream(options.tty);
    const stderr = new CapturedStream(options.tty);
    const code = await exec(argv, {
      stdout,
      stderr,
      cwd: this.root,
      env: { ...process.env, NO_COLOR: '1' },
      clock: this.clock,
      pollIntervalMs: 1000,
      ...options,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const IMAGE_JSON = `{
  // a comment, as the devcontainer CLI allows
  "image": "mcr.microsoft.com/devcontainers/base:bookworm",
  "customizations": { "devcontainer-factory": { "version": "1.2.3" } },
}
`;

/** A valid image configuration. */
export const IMAGE_FILES = {
  '.devcontainer/devcontainer.json': IMAGE_JSON,
  'test-project/test.sh': '#!/bin/sh\ngit --version\n',
};

/** A valid feature configuration with id `id`. */
export function featureFiles(id: string, version = '1.0.0'): Record<string, string> {
  return {
    'devcontainer-feature.json': JSON.stringify({ id, version, name: id, options: {} }, null, 2),
    'install.sh': '#!/bin/sh\nset -e\necho installed\n',
    'test/test.sh': '#!/bin/bash\nset -e\ntrue\n',
  };
}
