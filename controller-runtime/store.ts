/**
 * The informer's in-memory copy of one kind, indexed by namespace and name, so a namespaced list does not
 * scan every object of the cluster.
 */
import { type KubeObject, keyString, type ObjectKey, objectKey } from "./types.ts";

/** Objects of one kind by namespace, then name. Stores what it is given; callers copy if they mutate. */
export class ObjectStore {
  private readonly byNamespace = new Map<string, Map<string, KubeObject>>();
  private count = 0;

  /** Number of objects. */
  get size(): number {
    return this.count;
  }

  /** The object with this key. */
  get(key: ObjectKey): KubeObject | undefined {
    return this.byNamespace.get(key.namespace)?.get(key.name);
  }

  /** Inserts or replaces an object; returns the one it replaced. */
  set(obj: KubeObject): KubeObject | undefined {
    const key = objectKey(obj);
    let names = this.byNamespace.get(key.namespace);
    if (!names) {
      names = new Map();
      this.byNamespace.set(key.namespace, names);
    }
    const previous = names.get(key.name);
    names.set(key.name, obj);
    if (!previous) this.count++;
    return previous;
  }

  /** Removes the object with this key; returns it. */
  delete(key: ObjectKey): KubeObject | undefined {
    const names = this.byNamespace.get(key.namespace);
    const previous = names?.get(key.name);
    if (!names || !previous) return undefined;
    names.delete(key.name);
    if (names.size === 0) this.byNamespace.delete(key.namespace);
    this.count--;
    return previous;
  }

  /** Objects of one namespace, or of all namespaces when namespace is undefined. */
  list(namespace?: string): KubeObject[] {
    if (namespace !== undefined) return [...(this.byNamespace.get(namespace)?.values() ?? [])];
    return [...this.byNamespace.values()].flatMap((names) => [...names.values()]);
  }
}

/**
 * Objects of one kind by namespace and the values a function gives each (client-go's indexer): a mapper finds
 * the objects of a namespace that name a value without scanning them all.
 */
export class ObjectIndex {
  private readonly byValue = new Map<string, Map<string, KubeObject>>();

  constructor(private readonly values: (obj: KubeObject) => readonly string[]) {}

  /** Indexes an object, replacing what was indexed under its key before (`previous`). */
  set(obj: KubeObject, previous?: KubeObject): void {
    if (previous) this.delete(previous);
    const id = keyString(objectKey(obj));
    for (const value of this.indexKeys(obj)) {
      let objects = this.byValue.get(value);
      if (!objects) {
        objects = new Map();
        this.byValue.set(value, objects);
      }
      objects.set(id, obj);
    }
  }

  delete(obj: KubeObject): void {
    const id = keyString(objectKey(obj));
    for (const value of this.indexKeys(obj)) {
      const objects = this.byValue.get(value);
      objects?.delete(id);
      if (objects?.size === 0) this.byValue.delete(value);
    }
  }

  /** The objects of a namespace indexed under `value`. */
  get(namespace: string, value: string): KubeObject[] {
    return [...(this.byValue.get(`${namespace}/${value}`)?.values() ?? [])];
  }

  private indexKeys(obj: KubeObject): string[] {
    return this.values(obj).map((value) => `${obj.metadata.namespace ?? ""}/${value}`);
  }
}
