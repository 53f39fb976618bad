import { FactoryError } from '@devcontainer-factory/core';

/** Thrown for props a feature pipeline cannot be built from; the message names the construct and says what to change. */
export class FeaturePipelinePropsError extends FactoryError {}
