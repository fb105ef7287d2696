/**
 * What the sync engine has seen in Kong as desired, so it can tell drift from change. An entity is drift when
 * Kong lacks it or holds it differently although wicked had it in Kong exactly as it is still desired: someone
 * deleted or edited it by hand. A first creation, or an update after a spec change, is not drift.
 *
 * The caller keeps one ledger per portal across syncs (in memory). A fresh ledger (after an operator restart)
 * knows nothing, so the first sync after a restart reports no drift; from then on it does.
 */

/** Per entity id, the digest of the desired fields Kong was last seen holding (fieldsDigest). */
export class KongLedger {
  private readonly seen = new Map<string, string>();

  /** The digest of the fields the entity last held as desired, if it ever did. */
  digestOf(id: string): string | undefined {
    return this.seen.get(id);
  }

  /** Records that Kong holds the entity with the desired fields of this digest. */
  record(id: string, digest: string): void {
    this.seen.set(id, digest);
  }

  /** Forgets an entity that was deleted on purpose. */
  forget(id: string): void {
    this.seen.delete(id);
  }

  /** Forgets every entity but these (the desired ones), so a later re-creation is not mistaken for drift. */
  retainOnly(ids: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const id of [...this.seen.keys()]) if (!ids.has(id)) this.seen.delete(id);
  }

  /** How many entities the ledger knows. */
  get size(): number {
    return this.seen.size;
  }
}
