/**
 * Where the OCI client may send credentials: to the registry's own origin, and to
 * the token realm of a `Bearer` challenge when that realm is safe to trust.
 */

/** True for `localhost`, `127.0.0.0/8` and `[::1]` host names (as `URL.hostname` writes them). */
export function isLoopbackHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Why the client must not ask `realm` for a token (sending it the credentials), or
 * undefined when it may: an HTTPS realm on any host (as Docker Hub, ECR and GHCR
 * use); a plain-HTTP realm only when the registry is on loopback and so is the realm,
 * or when the registry itself was given as plain HTTP and the realm is on its host.
 */
export function tokenRealmProblem(registry: URL, realm: URL): string | undefined {
  if (realm.protocol === 'https:') return undefined;
  if (realm.protocol !== 'http:') return `the token realm ${realm.origin} is neither HTTPS nor HTTP`;
  if (isLoopbackHostname(registry.hostname) && isLoopbackHostname(realm.hostname)) return undefined;
  if (registry.protocol === 'http:' && realm.hostname === registry.hostname) return undefined;
  return `the token realm ${realm.origin} is plain HTTP on another host than the registry ${registry.origin}; token realms must be HTTPS`;
}
