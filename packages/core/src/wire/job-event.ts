/**
 * The event CodePipeline sends to a Lambda invoke action, and reading what a
 * handler needs from it: the job id, the user parameters (JSON that the
 * construct writes), the input artifacts and the credentials to read them.
 */
import { FactoryError } from '../factory-error';

/** Where CodePipeline stored an input or output artifact. */
export interface JobArtifact {
  readonly name: string;
  readonly revision?: string | null;
  readonly location: {
    readonly type: string;
    readonly s3Location: { readonly bucketName: string; readonly objectKey: string };
  };
}

/** Short-lived credentials CodePipeline hands the job to read and write its artifacts. */
export interface ArtifactCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expirationTime?: number;
}

/** The `CodePipeline.job` part of the event. */
export interface CodePipelineJob {
  readonly id: string;
  readonly accountId: string;
  readonly data: {
    readonly actionConfiguration: { readonly configuration: { readonly FunctionName?: string; readonly UserParameters?: string } };
    readonly inputArtifacts?: readonly JobArtifact[];
    readonly outputArtifacts?: readonly JobArtifact[];
    readonly artifactCredentials?: ArtifactCredentials;
    readonly encryptionKey?: { readonly id: string; readonly type: string };
  };
}

/** What a Lambda invoke action receives. */
export interface CodePipelineJobEvent {
  readonly 'CodePipeline.job': CodePipelineJob;
}

/** Thrown when the action's configuration is not what the handler expects: a deployment problem, not bad input. */
export class JobParametersError extends FactoryError {}

/** The job of an event; throws {@link JobParametersError} when the event is not a CodePipeline job. */
export function jobOf(event: unknown): CodePipelineJob {
  const job = (event as Partial<CodePipelineJobEvent> | undefined)?.['CodePipeline.job'];
  if (!job || typeof job.id !== 'string' || !job.data) {
    throw new JobParametersError(
      "the event is not a CodePipeline job (no 'CodePipeline.job' with an id): invoke this function from a CodePipeline Lambda action",
    );
  }
  return job;
}

/** The user parameters of the job, parsed from JSON. */
export function userParameters(job: CodePipelineJob): Record<string, unknown> {
  const text = job.data.actionConfiguration?.configuration?.UserParameters;
  if (!text) throw new JobParametersError('the action has no UserParameters: redeploy the pipeline stack');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new JobParametersError(`the action's UserParameters are not JSON (${text.slice(0, 200)}): redeploy the pipeline stack`, { cause });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new JobParametersError("the action's UserParameters must be a JSON object: redeploy the pipeline stack");
  }
  return value as Record<string, unknown>;
}

/** A non-empty string parameter. */
export function stringParameter(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new JobParametersError(`UserParameters.${name} must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  if (/^#\{[^}]*\}$/.test(value)) {
    throw new JobParametersError(`UserParameters.${name} is the unresolved variable ${value}: the action that sets it did not run in this execution`);
  }
  return value;
}

/** A list of strings parameter (may be empty). */
export function stringListParameter(params: Record<string, unknown>, name: string): string[] {
  const value = params[name];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new JobParametersError(`UserParameters.${name} must be a list of non-empty strings (got ${JSON.stringify(value)})`);
  }
  return value as string[];
}

/** The input artifact of a job with the given name (CodePipeline passes each under the name the pipeline gives it). */
export function namedInputArtifact(job: CodePipelineJob, name: string): JobArtifact {
  const inputs = job.data.inputArtifacts ?? [];
  const artifact = inputs.find((a) => a.name === name);
  if (!artifact || artifact.location?.type !== 'S3') {
    throw new JobParametersError(
      `the action has no S3 input artifact ${name} (it has ${inputs.map((a) => a.name).join(', ') || 'none'}): redeploy the pipeline stack`,
    );
  }
  return artifact;
}

/** The one output artifact of a job that has exactly one. */
export function singleOutputArtifact(job: CodePipelineJob): JobArtifact {
  const outputs = job.data.outputArtifacts ?? [];
  if (outputs.length !== 1 || outputs[0].location?.type !== 'S3') {
    throw new JobParametersError(`the action must have exactly one S3 output artifact (it has ${outputs.length}): redeploy the pipeline stack`);
  }
  return outputs[0];
}

/** The one input artifact of a job that has exactly one. */
export function singleInputArtifact(job: CodePipelineJob): JobArtifact {
  const inputs = job.data.inputArtifacts ?? [];
  if (inputs.length !== 1 || inputs[0].location?.type !== 'S3') {
    throw new JobParametersError(`the action must have exactly one S3 input artifact (it has ${inputs.length}): redeploy the pipeline stack`);
  }
  return inputs[0];
}
