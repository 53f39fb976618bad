/**
 * The checks of the Test stage (`IMAGE_CHECKS` of core, which the cloud Test buildspec
 * runs with Docker and the devcontainer CLI) as `dcf local` runs them: the registry
 * for what the image says about itself, buildah for what runs in it. Where this
 * machine cannot do what CodeBuild does, the check says how it ran instead, or why it
 * did not run, in the Test stage's detail.
 */
import { dirname, join } from 'node:path';
import {
  DEVCONTAINER_METADATA_LABEL,
  IMAGE_CHECKS,
  IMAGE_TEST_SCRIPT,
  parseManifest,
  resolvePlatform,
  type ImageCheckId,
  type Registry,
} from '@devcontainer-factory/core';
import type { ContainerEngine } from './container-engine';
import { LocalStageError } from './local-stages';

/**
 * How a check went: `passed` as in the cloud; `passed differently`: it passed, run in
 * another way than the cloud runs it (see `differs`); `skipped`: it did not apply.
 * A check that fails throws a {@link LocalStageError}.
 */
export type LocalCheckOutcome = 'passed' | 'passed differently' | 'skipped';

export interface LocalCheckResult {
  readonly id: ImageCheckId;
  readonly outcome: LocalCheckOutcome;
  /** What the check saw, or why it was skipped. */
  readonly detail: string;
  /** With `passed differently`: how this run differs from the cloud's, and why. */
  readonly differs?: string;
}

export interface LocalImageCheckProps {
  readonly registry: Registry;
  readonly engine: ContainerEngine;
  /** `linux/amd64` or `linux/arm64`. */
  readonly platform: string;
  /** The staging repository, `<ns>/builds/<id>`. */
  readonly repository: string;
  readonly buildId: string;
  /** The unpacked configuration. */
  readonly srcDir: string;
  /** True when the configuration has `test-project/test.sh`. */
  readonly hasTests: boolean;
}

/** What the checks share: the image pulled for the platform, as `docker pull --platform` gives it. */
interface PulledImage {
  readonly props: LocalImageCheckProps;
  readonly arch: string;
  /** `<repository>@<digest>` of the platform's manifest. */
  readonly reference: string;
  readonly config: { readonly os?: string; readonly architecture?: string; readonly config?: { readonly Labels?: Readonly<Record<string, string>> } };
  /** A buildah working container of the image. */
  readonly container: string;
}

type LocalCheck = (image: PulledImage) => Promise<Omit<LocalCheckResult, 'id'>>;

/** Attempts of a command in the image whose output is empty (see {@link runOutput}). */
const EMPTY_OUTPUT_ATTEMPTS = 3;

/**
 * The output of a short command run in the image. `buildah run` with chroot isolation
 * now and then exits 0 without passing on the output of a process that ends at once;
 * an empty answer is asked for again, up to {@link EMPTY_OUTPUT_ATTEMPTS} times.
 */
async function runOutput(engine: ContainerEngine, container: string, command: readonly string[]): Promise<string> {
  let out = '';
  for (let attempt = 1; attempt <= EMPTY_OUTPUT_ATTEMPTS && out.trim() === ''; attempt++) {
    out = await engine.buildah('run', '--isolation', 'chroot', container, '--', ...command);
  }
  return out;
}

function machineArch(uname: string): string {
  const m = uname.trim();
  return m === 'x86_64' ? 'amd64' : m === 'aarch64' ? 'arm64' : m;
}

/** Why test.sh does not run in a dev container here. */
const NO_DEV_CONTAINER =
  "it ran with buildah run --isolation chroot in a copy of test-project/, not in a dev container started by devcontainer up and exec as in the cloud (that needs a container runtime): lifecycle commands, feature entrypoints and the metadata's remoteUser and containerEnv did not apply";

/** Each check of `IMAGE_CHECKS` as `dcf local` runs it; a check added to the list does not compile until it is here. */
const LOCAL_CHECKS: Readonly<Record<ImageCheckId, LocalCheck>> = {
  platform: async ({ props, config, reference }) => {
    const actual = `${config.os}/${config.architecture}`;
    if (actual !== props.platform)
      throw new LocalStageError(`${reference} is a ${actual} image where ${props.platform} was expected: the index points at the wrong manifest`);
    return { outcome: 'passed', detail: actual };
  },
  runs: async ({ props, arch, container, reference }) => {
    const machine = (await runOutput(props.engine, container, ['uname', '-m'])).trim();
    if (machineArch(machine) !== arch) throw new LocalStageError(`${reference} runs as ${machine || '(no output)'}, expected the machine of ${props.platform}`);
    return { outcome: 'passed', detail: `uname -m says ${machine}` };
  },
  'metadata-label': async ({ config, reference }) => {
    const label = config.config?.Labels?.[DEVCONTAINER_METADATA_LABEL];
    if (label === undefined || label === '')
      throw new LocalStageError(`${reference} has no ${DEVCONTAINER_METADATA_LABEL} label: it was not built by the devcontainer CLI`);
    let entries: unknown;
    try {
      entries = JSON.parse(label);
    } catch {
      entries = undefined;
    }
    if (!Array.isArray(entries)) throw new LocalStageError(`the ${DEVCONTAINER_METADATA_LABEL} label of ${reference} is not a JSON array`);
    return { outcome: 'passed', detail: `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}` };
  },
  'test-script': async ({ props, container }) => {
    if (!props.hasTests) return { outcome: 'skipped', detail: `no ${IMAGE_TEST_SCRIPT} in the configuration` };
    await props.engine.buildah('copy', '--quiet', container, join(props.srcDir, dirname(IMAGE_TEST_SCRIPT)), '/workspaces/test-project');
    let out: string;
    try {
      out = await props.engine.buildah('run', '--isolation', 'chroot', '--workingdir', '/workspaces/test-project', container, '--', '/bin/sh', './test.sh');
    } catch (cause) {
      throw new LocalStageError(`${IMAGE_TEST_SCRIPT} failed: ${(cause as Error).message}`, { cause });
    }
    const last = out.trim().split('\n').pop();
    return { outcome: 'passed differently', detail: `${IMAGE_TEST_SCRIPT} passed${last ? ` ("${last}")` : ''}`, differs: NO_DEV_CONTAINER };
  },
};

/**
 * Pulls `<build>` through the index for the platform (as `docker pull --platform`
 * would) and runs every check of `IMAGE_CHECKS` in order; the first that fails throws.
 */
export async function runLocalImageChecks(props: LocalImageCheckProps): Promise<LocalCheckResult[]> {
  const { registry, engine, repository, buildId, platform } = props;
  const digest = await resolvePlatform(registry, repository, buildId, platform);
  const reference = `${registry.host}/${repository}@${digest}`;
  const parsed = parseManifest((await registry.getManifest(repository, digest))!, `${repository}@${digest}`);
  if (parsed.kind !== 'image') throw new LocalStageError(`${reference} is not an image manifest`);
  const config = JSON.parse((await registry.getBlob(repository, parsed.manifest.config.digest)).toString('utf8')) as PulledImage['config'];
  const container = (await engine.buildah('from', '--quiet', '--pull-always', '--tls-verify=false', `${registry.host}/${repository}@${digest}`)).trim();
  try {
    const image: PulledImage = { props, arch: platform.split('/')[1], reference, config, container };
    const results: LocalCheckResult[] = [];
    for (const check of IMAGE_CHECKS) {
      try {
        results.push({ id: check.id, ...(await LOCAL_CHECKS[check.id](image)) });
      } catch (e) {
        if (e instanceof LocalStageError) throw new LocalStageError(`${check.id}: ${e.message}`, { cause: e.cause });
        throw e;
      }
    }
    return results;
  } finally {
    await engine.buildah('rm', container).catch(() => undefined);
  }
}

/** The Test stage's one-line detail: each check with what it saw, and how a check that ran differently or not at all differs from the cloud. */
export function formatLocalChecks(platform: string, results: readonly LocalCheckResult[]): string {
  const parts = results.map((r) => {
    if (r.outcome === 'skipped') return `${r.id} skipped: ${r.detail}`;
    if (r.outcome === 'passed differently') return `${r.id}: ${r.detail}, but ${r.differs}`;
    return `${r.id}: ${r.detail}`;
  });
  return `${platform}: ${parts.join('; ')}`;
}
