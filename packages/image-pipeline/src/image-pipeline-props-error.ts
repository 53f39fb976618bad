/** Thrown for props an image pipeline cannot be built from; the message says what to change. */
export class ImagePipelinePropsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImagePipelinePropsError';
  }
}
