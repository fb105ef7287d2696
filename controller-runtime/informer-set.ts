/**
 * One kind seen through several list+watch sources at once: one per watched namespace, per label selector
 * (Secrets the operator owns or is granted), or per object name (a Secret a portal points at). Each source
 * is an Informer of its own; the set answers reads from all of them and tells its handlers about every change
 * any of them sees. Sources may come and go while it runs.
 */
import { Informer, type InformerHandler, type InformerOptions } from "./informer.ts";
import type { GroupVersionKind, KubeObject, ObjectKey } from "./types.ts";
import { objectKey } from "./types.ts";

/** What the cache needs of the informer of a kind: one Informer, or an InformerSet. */
export interface KindInformer {
  readonly gvk: GroupVersionKind;
  readonly hasSynced: boolean;
  addHandler(handler: InformerHandler): void;
  get(key: ObjectKey): KubeObject | undefined;
  list(namespace?: string): KubeObject[];
  start(): void;
  waitForSync(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** The union of the sources of one kind. */
export class InformerSet implements KindInformer {
  private readonly sources = new Map<string, Informer>();
  private readonly handlers: InformerHandler[] = [];
  private started = false;

  constructor(readonly gvk: GroupVersionKind) {}

  /** Adds a source under `id` (a no-op when it exists); it starts at once when the set runs. */
  add(id: string, options: InformerOptions): void {
    if (this.sources.has(id)) return;
    const informer = new Informer(this.gvk, options);
    for (const handler of this.handlers) informer.addHandler(handler);
    this.sources.set(id, informer);
    if (this.started) informer.start();
  }

  /** Stops and forgets the source `id`; its objects no longer read as cached (no delete events). */
  async remove(id: string): Promise<void> {
    const informer = this.sources.get(id);
    this.sources.delete(id);
    await informer?.stop();
  }

  has(id: string): boolean {
    return this.sources.has(id);
  }

  get hasSynced(): boolean {
    return [...this.sources.values()].every((s) => s.hasSynced);
  }

  addHandler(handler: InformerHandler): void {
    this.handlers.push(handler);
    for (const source of this.sources.values()) source.addHandler(handler);
  }

  get(key: ObjectKey): KubeObject | undefined {
    for (const source of this.sources.values()) {
      const obj = source.get(key);
      if (obj) return obj;
    }
    return undefined;
  }

  /** Objects of all sources; one seen by two sources (a named Secret that also has the label) once. */
  list(namespace?: string): KubeObject[] {
    if (this.sources.size === 1) return [...this.sources.values()][0]?.list(namespace) ?? [];
    const byKey = new Map<string, KubeObject>();
    for (const source of this.sources.values()) {
      for (const obj of source.list(namespace)) {
        const { namespace: ns, name } = objectKey(obj);
        byKey.set(`${ns}/${name}`, obj);
      }
    }
    return [...byKey.values()];
  }

  start(): void {
    this.started = true;
    for (const source of this.sources.values()) source.start();
  }

  /** Resolves once the current sources are synced. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.waitForSync(signal)));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
  }
}
