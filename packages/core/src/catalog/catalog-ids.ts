import { idProblem } from '../naming';
import { CatalogError } from './catalog-error';

/**
 * Checks one source's list of image or feature ids: each valid (see `validateId`)
 * and listed once; throws {@link CatalogError}.
 * @param kind what the ids name
 * @param ids the ids, in the source's order
 * @param where the source, as the fix should name it: `-c images=…`, `the catalogue file catalog.yaml`
 */
export function checkIds(kind: 'image' | 'feature', ids: readonly string[], where: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    const problem = idProblem(id, `${kind} id`);
    if (problem) throw new CatalogError(`${problem}. Fix it in ${where}`);
    if (seen.has(id)) throw new CatalogError(`duplicate ${kind} id '${id}' in ${where}: list each ${kind} once`);
    seen.add(id);
  }
}
