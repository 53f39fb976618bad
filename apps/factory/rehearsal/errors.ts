/**
 * What goes wrong when the rehearsal reads an assembly or models its IAM: a template it
 * cannot resolve, a policy it cannot model, a principal it does not know. The message
 * names where (stack, logical id, the path in the resource) so that it can be found.
 */

/** Where in an assembly something went wrong. */
export interface RehearsalErrorLocation {
  /** The stack name (`stack` itself is the JavaScript stack trace of an Error). */
  readonly stackName?: string;
  readonly logicalId?: string;
  /** The path in the resource, e.g. `Properties.PolicyDocument.Statement.1.Resource`. */
  readonly path?: string;
}

/** The rehearsal cannot model what the assembly says, or was asked about something it does not know. */
export class RehearsalError extends Error implements RehearsalErrorLocation {
  readonly stackName?: string;
  readonly logicalId?: string;
  readonly path?: string;

  constructor(message: string, options: RehearsalErrorLocation & { readonly cause?: unknown } = {}) {
    super(`${where(options)}${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RehearsalError';
    this.stackName = options.stackName;
    this.logicalId = options.logicalId;
    this.path = options.path;
  }
}

function where(location: RehearsalErrorLocation): string {
  const resource = [location.stackName, location.logicalId].filter((p): p is string => Boolean(p)).join('/');
  if (!resource && !location.path) return '';
  return `${resource}${location.path ? ` at ${location.path}` : ''}: `;
}
