/**
 * What `dcf local` reports: each stage of each image and feature, with its
 * result and time, as it happens and in the summary.
 */
import { FactoryError, formatProblem, type DevcontainerCli } from '@devcontainer-factory/core';
import { loadConfiguration, type LoadedConfiguration } from '../private/configuration';

export type StageStatus = 'ok' | 'skipped' | 'failed';

export interface StageReport {
  /** `validate`, `pack`, `prepare`, `build`, `manifest`, `test`, `release`; `layout`, `version guard`, `publish`, `collection`. */
  readonly stage: string;
  readonly status: StageStatus;
  /** One line: what the stage did, or why it was skipped or failed. */
  readonly detail: string;
  readonly ms: number;
}

/** Receives each stage when it ends. */
export type StageListener = (subject: { readonly kind: 'image' | 'feature'; readonly id: string }, report: StageReport) => void;

/** What the stages of one image or one feature are given. */
export interface LocalStageProps {
  readonly namespace: string;
  readonly devcontainer: DevcontainerCli;
  /** Folder for the files the stages write. */
  readonly workDir: string;
  readonly listener: StageListener;
  readonly now: () => number;
}

/** Thrown by a stage body to mark the stage failed with a message for the user. */
export class LocalStageError extends FactoryError {}

/** Runs the stages of one image or feature in order, timing each and telling the listener. */
export class StageRecorder {
  readonly stages: StageReport[] = [];

  constructor(
    private readonly subject: { readonly kind: 'image' | 'feature'; readonly id: string },
    private readonly listener: StageListener,
    private readonly now: () => number,
  ) {}

  /** True when a stage failed. */
  get failed(): boolean {
    return this.stages.some((s) => s.status === 'failed');
  }

  /**
   * Runs `body`; its string is the stage's detail. A thrown error marks the stage
   * failed (its message the detail) and is rethrown.
   */
  async run<T>(stage: string, body: () => Promise<{ value: T; detail: string }>): Promise<T> {
    const start = this.now();
    try {
      const { value, detail } = await body();
      this.record({ stage, status: 'ok', detail, ms: this.now() - start });
      return value;
    } catch (e) {
      this.record({ stage, status: 'failed', detail: (e as Error)?.message ?? String(e), ms: this.now() - start });
      throw e;
    }
  }

  /**
   * The `validate` stage: loads the configuration in `dir` as the subject's kind and id;
   * any problem fails the stage, with every problem in its detail.
   */
  validate(dir: string, detail: (loaded: LoadedConfiguration) => string): Promise<LoadedConfiguration> {
    return this.run('validate', async () => {
      const loaded = await loadConfiguration(dir, dir, this.subject);
      if (loaded.problems.length > 0) {
        throw new LocalStageError(`${loaded.problems.length} problem(s): ${loaded.problems.map((p) => formatProblem(p)).join('; ')}`);
      }
      return { value: loaded, detail: detail(loaded) };
    });
  }

  skip(stage: string, reason: string): void {
    this.record({ stage, status: 'skipped', detail: reason, ms: 0 });
  }

  private record(report: StageReport): void {
    this.stages.push(report);
    this.listener(this.subject, report);
  }
}
