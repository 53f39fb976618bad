import { FactoryError } from '@devcontainer-factory/core';

/** Thrown for props an image pipeline cannot be built from; the message names the construct (where it is known) and says what to change. */
export class ImagePipelinePropsError extends FactoryError {}
