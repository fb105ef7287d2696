/**
 * The shared informer cache: one list+watch per kind for all controllers, so reconcilers read without
 * apiserver round trips and a kind watched by three controllers costs one watch.
 */
import { Informer, type InformerOptions } from "./informer.ts";
import { type GroupVersionKind, gvkString, type KubeObject, type ObjectKey } from "./types.ts";

/**
 * Reads of the cluster state as last seen by the informers. Objects are copies: a reconciler may change
 * them freely (e.g. to build an apply body) without corrupting the cache.
 */
export interface Cache {
  /** The cached object, or undefined when it does not exist (as of the last event). */
  get<T extends KubeObject>(gvk: GroupVersionKind, key: ObjectKey): T | undefined;
  /**
   * Cached objects of a kind in one namespace (all when omitted), optionally only those whose labels
   * include every given label.
   */
  list<T extends KubeObject>(gvk: GroupVersionKind, namespace?: string, labels?: Record<string, string>): T[];
}

/** Thrown when reading a kind no informer watches: add it to a controller or to the manager's cache kinds. */
export class KindNotCachedError extends Error {
  override readonly name = "KindNotCachedError";
  constructor(gvk: GroupVersionKind) {
    super(
      `The cache does not watch ${gvkString(gvk)}; add it to a controller's for/owns/watches or to cacheKinds`,
    );
  }
}

/** Creates the informer of a kind; lets tests inject list and watch functions. */
export type InformerFactory = (gvk: GroupVersionKind) => InformerOptions;

/** A Cache over one Informer per kind. */
export class InformerCache implements Cache {
  private readonly informers = new Map<string, Informer>();
  private started = false;

  constructor(private readonly optionsFor: InformerFactory) {}

  /** The informer of a kind, created on first use; informers created after start() start at once. */
  informerFor(gvk: GroupVersionKind): Informer {
    const id = gvkString(gvk);
    let informer = this.informers.get(id);
    if (!informer) {
      informer = new Informer(gvk, this.optionsFor(gvk));
      this.informers.set(id, informer);
      if (this.started) informer.start();
    }
    return informer;
  }

  /** Starts every informer. */
  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  /** Stops every informer and closes their watches. */
  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  /** True when every informer has completed its first list. */
  get hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced);
  }

  /** Resolves when every informer has synced. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
  }

  get<T extends KubeObject>(gvk: GroupVersionKind, key: ObjectKey): T | undefined {
    const obj = this.informer(gvk).get(key);
    return obj === undefined ? undefined : (structuredClone(obj) as T);
  }

  list<T extends KubeObject>(
    gvk: GroupVersionKind,
    namespace?: string,
    labels?: Record<string, string>,
  ): T[] {
    const wanted = Object.entries(labels ?? {});
    return this.informer(gvk)
      .list(namespace === "" ? undefined : namespace)
      .filter((obj) => wanted.every(([k, v]) => obj.metadata.labels?.[k] === v))
      .map((obj) => structuredClone(obj) as T);
  }

  private informer(gvk: GroupVersionKind): Informer {
    const informer = this.informers.get(gvkString(gvk));
    if (!informer) throw new KindNotCachedError(gvk);
    return informer;
  }
}
