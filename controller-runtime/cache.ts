/**
 * The shared informer cache: one list+watch per kind for all controllers, so reconcilers read without
 * apiserver round trips and a kind watched by three controllers costs one watch.
 */
import type { InformerOptions } from "./informer.ts";
import { InformerSet, type KindInformer } from "./informer-set.ts";
import { ObjectIndex } from "./store.ts";
import { type GroupVersionKind, gvkString, type KubeObject, type ObjectKey } from "./types.ts";

/**
 * Reads of the cluster state as last seen by the informers. Objects are shared and deeply frozen: a
 * reconciler that needs a changed one builds a new object (or a structuredClone) instead of changing it.
 */
export interface Cache {
  /** The cached object, or undefined when it does not exist (as of the last event). */
  get<T extends KubeObject>(gvk: GroupVersionKind, key: ObjectKey): T | undefined;
  /**
   * Cached objects of a kind in one namespace (all when omitted), optionally only those whose labels
   * include every given label.
   */
  list<T extends KubeObject>(gvk: GroupVersionKind, namespace?: string, labels?: Record<string, string>): T[];
  /** Cached objects of a kind in one namespace that the index `index` (see IndexSpec) files under `value`. */
  byIndex<T extends KubeObject>(gvk: GroupVersionKind, index: string, namespace: string, value: string): T[];
}

/** An index of the cached objects of a kind: the values each object is found by (e.g. the Secret it names). */
export interface IndexSpec {
  gvk: GroupVersionKind;
  /** Unique per kind; two controllers declaring the same name share one index. */
  name: string;
  values(obj: KubeObject): readonly string[];
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

/** What one source of a kind lists and watches. */
export interface Source {
  /** "" for all namespaces. */
  namespace: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Creates the informer of one source of a kind; lets tests inject list and watch functions. */
export type InformerFactory = (gvk: GroupVersionKind, source: Source) => InformerOptions;

/** Where the cache looks. */
export interface CacheScope {
  /** The namespaces watched; all when empty. */
  namespaces?: readonly string[];
  /**
   * Label selectors for kinds not wanted whole (by gvkString): the cache holds only objects matching one of
   * them, plus the objects named with watchNamed.
   */
  selectors?: Readonly<Record<string, readonly string[]>>;
  /** Kinds the cluster may not serve (by gvkString): not served counts as none (InformerOptions.optional). */
  optional?: readonly string[];
}

/** A Cache over one InformerSet per kind. */
export class InformerCache implements Cache {
  private readonly informers = new Map<string, InformerSet>();
  private readonly indexes = new Map<string, ObjectIndex>();
  private readonly namespaces: readonly string[];
  private started = false;

  constructor(
    private readonly optionsFor: InformerFactory,
    private readonly scope: CacheScope = {},
  ) {
    this.namespaces = scope.namespaces?.length ? scope.namespaces : [""];
  }

  /** The informer of a kind, created on first use; informers created after start() start at once. */
  informerFor(gvk: GroupVersionKind): KindInformer {
    const id = gvkString(gvk);
    let informer = this.informers.get(id);
    if (!informer) {
      informer = new InformerSet(gvk);
      for (const namespace of this.namespaces) {
        for (const labelSelector of this.scope.selectors?.[id] ?? [undefined]) {
          const source = { namespace, ...(labelSelector ? { labelSelector } : {}) };
          informer.add(`${namespace}?${labelSelector ?? ""}`, {
            ...this.optionsFor(gvk, source),
            optional: this.scope.optional?.includes(id) ?? false,
          });
        }
      }
      this.informers.set(id, informer);
      if (this.started) informer.start();
    }
    return informer;
  }

  /**
   * Caches one object of a kind cached by label selector (a Secret a portal points at) until unwatchNamed;
   * a no-op for kinds cached whole. The object reads as absent until its watch has listed it.
   */
  watchNamed(gvk: GroupVersionKind, key: ObjectKey): void {
    const id = gvkString(gvk);
    if (!this.scope.selectors?.[id]) return;
    const source = { namespace: key.namespace, fieldSelector: `metadata.name=${key.name}` };
    const set = this.informerFor(gvk) as InformerSet;
    const sourceId = namedSource(key);
    if (!set.has(sourceId)) set.add(sourceId, this.optionsFor(gvk, source));
  }

  /** Stops caching an object watchNamed cached. */
  async unwatchNamed(gvk: GroupVersionKind, key: ObjectKey): Promise<void> {
    await this.informers.get(gvkString(gvk))?.remove(namedSource(key));
  }

  /**
   * Keeps the objects of kind `to` that objects of kind `from` point at (by name, in their namespace) cached
   * with watchNamed, for as long as one of them points at each.
   */
  cacheReferenced(from: GroupVersionKind, to: GroupVersionKind, names: (obj: KubeObject) => string[]): void {
    const readers = new Map<string, Set<string>>();
    const byReader = new Map<string, ObjectKey[]>();
    const track = (obj: KubeObject, wanted: string[]) => {
      const namespace = obj.metadata.namespace ?? "";
      const reader = `${namespace}/${obj.metadata.name}`;
      const before = byReader.get(reader) ?? [];
      const after = wanted.map((name) => ({ namespace, name }));
      const has = (list: ObjectKey[], key: ObjectKey) => list.some((k) => k.name === key.name);
      for (const key of after.filter((k) => !has(before, k))) {
        const id = namedSource(key);
        readers.set(id, (readers.get(id) ?? new Set()).add(reader));
        this.watchNamed(to, key);
      }
      for (const key of before.filter((k) => !has(after, k))) {
        const id = namedSource(key);
        readers.get(id)?.delete(reader);
        if (readers.get(id)?.size) continue;
        readers.delete(id);
        void this.unwatchNamed(to, key);
      }
      if (after.length > 0) byReader.set(reader, after);
      else byReader.delete(reader);
    };
    this.informerFor(from).addHandler({
      onAdd: (obj) => track(obj, names(obj)),
      onUpdate: (_, obj) => track(obj, names(obj)),
      onDelete: (obj) => track(obj, []),
    });
  }

  /** Maintains an index of a kind from its events; a second index of the same name is the first. */
  addIndex(spec: IndexSpec): void {
    const id = `${gvkString(spec.gvk)}#${spec.name}`;
    if (this.indexes.has(id)) return;
    const index = new ObjectIndex(spec.values);
    this.indexes.set(id, index);
    this.informerFor(spec.gvk).addHandler({
      onAdd: (obj) => index.set(obj),
      onUpdate: (oldObj, obj) => index.set(obj, oldObj),
      onDelete: (obj) => index.delete(obj),
    });
  }

  byIndex<T extends KubeObject>(gvk: GroupVersionKind, name: string, namespace: string, value: string): T[] {
    const index = this.indexes.get(`${gvkString(gvk)}#${name}`);
    if (!index)
      throw new Error(
        `The cache has no index ${name} of ${gvkString(gvk)}; declare it in a controller's indexes`,
      );
    return index.get(namespace, value) as T[];
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

  /**
   * Resolves when every informer has synced, including sources added meanwhile (the Secrets named by
   * portals the first list of ApiPortals found).
   */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    while (!this.hasSynced) {
      await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    }
  }

  get<T extends KubeObject>(gvk: GroupVersionKind, key: ObjectKey): T | undefined {
    return this.informer(gvk).get(key) as T | undefined;
  }

  list<T extends KubeObject>(
    gvk: GroupVersionKind,
    namespace?: string,
    labels?: Record<string, string>,
  ): T[] {
    const wanted = Object.entries(labels ?? {});
    return this.informer(gvk)
      .list(namespace === "" ? undefined : namespace)
      .filter((obj) => wanted.every(([k, v]) => obj.metadata.labels?.[k] === v)) as T[];
  }

  private informer(gvk: GroupVersionKind): InformerSet {
    const informer = this.informers.get(gvkString(gvk));
    if (!informer) throw new KindNotCachedError(gvk);
    return informer;
  }
}

function namedSource(key: ObjectKey): string {
  return `${key.namespace}/${key.name}`;
}
