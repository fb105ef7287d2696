/**
 * A reconcile's view of the Client that stops with the reconcile: once its signal aborts (the reconcile ran
 * past its limit, or this replica stopped leading) every call fails with the signal's reason, and calls
 * still waiting for the apiserver reject at once. So a reconcile that was abandoned cannot write after a
 * newer attempt (or the new leader) took over, even if it never looks at its signal. A request already on
 * the wire is not recalled; it ends within its own timeout and its answer is dropped.
 */
import type { ApplyOptions, Client, DeleteOptions, ListOptions, PatchOptions } from "./client.ts";
import { untilAborted } from "./deadline.ts";
import type { GroupVersionKind, KubeObject, ObjectKey } from "./types.ts";

/** `client`, bound to `signal`. */
export function abortableClient(client: Client, signal: AbortSignal): Client {
  return new AbortableClient(client, signal);
}

class AbortableClient implements Client {
  constructor(
    private readonly inner: Client,
    private readonly signal: AbortSignal,
  ) {}

  get<T extends KubeObject>(gvk: GroupVersionKind, key: ObjectKey): Promise<T | undefined> {
    return this.guard(() => this.inner.get<T>(gvk, key));
  }

  list<T extends KubeObject>(gvk: GroupVersionKind, namespace?: string, options?: ListOptions): Promise<T[]> {
    return this.guard(() => this.inner.list<T>(gvk, namespace, options));
  }

  create<T extends KubeObject>(obj: T): Promise<T> {
    return this.guard(() => this.inner.create(obj));
  }

  apply<T extends KubeObject>(obj: T, opts?: ApplyOptions): Promise<T> {
    return this.guard(() => this.inner.apply(obj, opts));
  }

  applyStatus<T extends KubeObject>(obj: T, opts?: ApplyOptions): Promise<T> {
    return this.guard(() => this.inner.applyStatus(obj, opts));
  }

  delete(gvk: GroupVersionKind, key: ObjectKey, opts?: DeleteOptions): Promise<void> {
    return this.guard(() => this.inner.delete(gvk, key, opts));
  }

  patchMerge<T extends KubeObject>(
    gvk: GroupVersionKind,
    key: ObjectKey,
    patch: object,
    opts?: PatchOptions,
  ): Promise<T> {
    return this.guard(() => this.inner.patchMerge<T>(gvk, key, patch, opts));
  }

  private guard<T>(call: () => Promise<T>): Promise<T> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    return untilAborted(call(), this.signal);
  }
}
