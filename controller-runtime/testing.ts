/**
 * An in-memory Client for unit tests of reconcilers and runtime helpers: it keeps objects with
 * resourceVersions, honours resourceVersion preconditions and finalizers like the apiserver, records every
 * write, and can be told to fail. Integration tests use the real apiserver instead.
 */
import type { ApplyOptions, Client, DeleteOptions, ListOptions, PatchOptions } from "./client.ts";
import { ApiError } from "./errors.ts";
import { groupOf } from "./owners.ts";
import { rfc3339 } from "./time.ts";
import { apiVersionOf, type GroupVersionKind, type KubeObject, type ObjectKey } from "./types.ts";

/** One write the FakeClient received. */
export interface FakeWrite {
  verb: "create" | "apply" | "applyStatus" | "delete" | "patchMerge";
  kind: string;
  namespace: string;
  name: string;
}

type Verb = FakeWrite["verb"] | "get" | "list";

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch) || patch instanceof Date) {
    return structuredClone(patch);
  }
  const result: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** A Client over a Map, for unit tests. */
export class FakeClient implements Client {
  /** Every write, in order. */
  readonly writes: FakeWrite[] = [];
  /** Return an error to make a call fail (checked before the call does anything). */
  failWith: ((verb: Verb, kind: string, key: ObjectKey) => Error | undefined) | undefined;
  private readonly objects = new Map<string, KubeObject>();
  private resourceVersion = 100;

  /** Puts an object in place without recording a write (test setup). */
  seed<T extends KubeObject>(obj: T): T {
    const stored = this.stamp(structuredClone(obj), true);
    this.objects.set(this.id(stored.kind ?? "", stored.apiVersion ?? "", this.keyOf(stored)), stored);
    return structuredClone(stored) as T;
  }

  async get<T extends KubeObject>(gvk: GroupVersionKind, key: ObjectKey): Promise<T | undefined> {
    this.check("get", gvk.kind, key);
    const obj = this.objects.get(this.gvkId(gvk, key));
    return obj ? (structuredClone(obj) as T) : undefined;
  }

  async list<T extends KubeObject>(
    gvk: GroupVersionKind,
    namespace = "",
    options: ListOptions = {},
  ): Promise<T[]> {
    this.check("list", gvk.kind, { namespace, name: "" });
    const terms = (selector = "") =>
      selector
        .split(",")
        .filter(Boolean)
        .map((term) => term.split("=") as [string, string]);
    const labels = terms(options.labelSelector);
    const fields = terms(options.fieldSelector);
    const field = (o: KubeObject, path: string) =>
      path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
    return [...this.objects.values()]
      .filter((o) => o.kind === gvk.kind && groupOf(o.apiVersion ?? "") === gvk.group)
      .filter((o) => namespace === "" || o.metadata.namespace === namespace)
      .filter((o) => labels.every(([k, v]) => o.metadata.labels?.[k] === v))
      .filter((o) => fields.every(([path, v]) => field(o, path) === v))
      .map((o) => structuredClone(o) as T);
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const key = this.keyOf(obj);
    this.check("create", obj.kind ?? "", key);
    const id = this.id(obj.kind ?? "", obj.apiVersion ?? "", key);
    if (this.objects.has(id)) throw new ApiError(`POST ${id}`, 409, "AlreadyExists");
    this.record("create", obj.kind ?? "", key);
    const stored = this.stamp(structuredClone(obj), true);
    this.objects.set(id, stored);
    return structuredClone(stored) as T;
  }

  async apply<T extends KubeObject>(obj: T, _opts?: ApplyOptions): Promise<T> {
    const { status: _status, ...intent } = obj as T & { status?: unknown };
    return this.applyTo("apply", obj, (current) => mergePatch(current, intent) as KubeObject);
  }

  async applyStatus<T extends KubeObject>(obj: T, _opts?: ApplyOptions): Promise<T> {
    const status = (obj as { status?: unknown }).status;
    return this.applyTo("applyStatus", obj, (current) => ({ ...current, status }) as KubeObject, true);
  }

  async delete(gvk: GroupVersionKind, key: ObjectKey, _opts?: DeleteOptions): Promise<void> {
    this.check("delete", gvk.kind, key);
    const id = this.gvkId(gvk, key);
    const obj = this.objects.get(id);
    if (!obj) return;
    this.record("delete", gvk.kind, key);
    if (obj.metadata.finalizers?.length) {
      if (!obj.metadata.deletionTimestamp) {
        // The apiserver's JSON carries an RFC 3339 string, whatever client-node's type says (see KubeObject).
        obj.metadata.deletionTimestamp = rfc3339(new Date()) as unknown as Date;
        this.stamp(obj, false);
      }
      return;
    }
    this.objects.delete(id);
  }

  async patchMerge<T extends KubeObject>(
    gvk: GroupVersionKind,
    key: ObjectKey,
    patch: object,
    _opts?: PatchOptions,
  ): Promise<T> {
    this.check("patchMerge", gvk.kind, key);
    const id = this.gvkId(gvk, key);
    const current = this.objects.get(id);
    if (!current) throw new ApiError(`PATCH ${id}`, 404, "NotFound");
    const precondition = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== current.metadata.resourceVersion) {
      throw new ApiError(`PATCH ${id}`, 409, "Conflict");
    }
    this.record("patchMerge", gvk.kind, key);
    const next = mergePatch(current, patch) as KubeObject;
    next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    this.stamp(next, false);
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) this.objects.delete(id);
    else this.objects.set(id, next);
    return structuredClone(next) as T;
  }

  private async applyTo<T extends KubeObject>(
    verb: "apply" | "applyStatus",
    obj: T,
    merge: (current: KubeObject) => KubeObject,
    mustExist = false,
  ): Promise<T> {
    const key = this.keyOf(obj);
    this.check(verb, obj.kind ?? "", key);
    const id = this.id(obj.kind ?? "", obj.apiVersion ?? "", key);
    const current = this.objects.get(id);
    if (!current && mustExist) throw new ApiError(`PATCH ${id}/status`, 404, "NotFound");
    const base = current ?? { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { ...obj.metadata } };
    const next = merge(structuredClone(base));
    next.metadata.resourceVersion = base.metadata.resourceVersion;
    if (current && JSON.stringify(next) === JSON.stringify(current)) return structuredClone(current) as T;
    this.record(verb, obj.kind ?? "", key);
    this.stamp(next, !current);
    this.objects.set(id, next);
    return structuredClone(next) as T;
  }

  private stamp(obj: KubeObject, created: boolean): KubeObject {
    obj.metadata.resourceVersion = String(++this.resourceVersion);
    if (created) {
      obj.metadata.uid ??= `uid-${this.resourceVersion}`;
      obj.metadata.generation ??= 1;
    }
    return obj;
  }

  private check(verb: Verb, kind: string, key: ObjectKey): void {
    const err = this.failWith?.(verb, kind, key);
    if (err) throw err;
  }

  private record(verb: FakeWrite["verb"], kind: string, key: ObjectKey): void {
    this.writes.push({ verb, kind, ...key });
  }

  private keyOf(obj: KubeObject): ObjectKey {
    return { namespace: obj.metadata.namespace ?? "", name: obj.metadata.name ?? "" };
  }

  private gvkId(gvk: GroupVersionKind, key: ObjectKey): string {
    return this.id(gvk.kind, apiVersionOf(gvk), key);
  }

  private id(kind: string, apiVersion: string, key: ObjectKey): string {
    return `${groupOf(apiVersion)}/${kind}/${key.namespace}/${key.name}`;
  }
}
