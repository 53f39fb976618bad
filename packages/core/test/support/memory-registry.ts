import { sha256Digest } from '../../src/oci/digest';
import { Registry, StoredManifest } from '../../src/oci/registry';

/**
 * A {@link Registry} held in memory, for unit tests of logic that runs on the
 * interface (release planning). It records every `putManifest` so tests can prove
 * that nothing was written. Logic that talks to a registry is also tested against
 * a real one (see local-registry.ts).
 */
export class MemoryRegistry implements Registry {
  readonly host = 'memory.invalid';
  /** Every `putManifest` call, in order. */
  readonly puts: Array<{ repository: string; tag: string | undefined; digest: string }> = [];
  private readonly manifests = new Map<string, StoredManifest>();
  private readonly tags = new Map<string, Map<string, string>>();
  private readonly blobs = new Map<string, Buffer>();

  /**
   * @param listsDigests implement the optional `tagDigests` (as ECR does)
   */
  constructor(listsDigests = false) {
    if (!listsDigests) this.tagDigests = undefined;
  }

  async getManifest(repository: string, reference: string): Promise<StoredManifest | undefined> {
    const digest = reference.startsWith('sha256:') ? reference : this.tags.get(repository)?.get(reference);
    return digest ? this.manifests.get(`${repository}@${digest}`) : undefined;
  }

  async putManifest(repository: string, tag: string | undefined, mediaType: string, body: Buffer): Promise<string> {
    const digest = sha256Digest(body);
    this.puts.push({ repository, tag, digest });
    this.manifests.set(`${repository}@${digest}`, { digest, mediaType, body: Buffer.from(body) });
    if (tag) {
      if (!this.tags.has(repository)) this.tags.set(repository, new Map());
      this.tags.get(repository)!.set(tag, digest);
    }
    return digest;
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const blob = this.blobs.get(`${repository}@${digest}`);
    if (!blob) throw new Error(`no blob ${digest} in ${repository}`);
    return blob;
  }

  /** Stores a blob; returns its digest. */
  putBlob(repository: string, bytes: Buffer): string {
    const digest = sha256Digest(bytes);
    this.blobs.set(`${repository}@${digest}`, bytes);
    return digest;
  }

  async listTags(repository: string): Promise<string[]> {
    return [...(this.tags.get(repository)?.keys() ?? [])];
  }

  tagDigests?: (repository: string) => Promise<Map<string, string>> = async (repository) => new Map(this.tags.get(repository) ?? []);

  /** Every tag of a repository with its digest. */
  snapshot(repository: string): Record<string, string> {
    return Object.fromEntries(this.tags.get(repository) ?? []);
  }
}
