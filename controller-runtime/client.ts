/**
 * The apiserver client reconcilers write with. Every write goes to the apiserver; reconcilers read from the
 * Cache and use the live reads here only when the cache cannot answer (a kind that is not watched, a read
 * that must see its own write).
 */
import { isNotFound, UnknownKindError } from "./errors.ts";
import { applyBody, decodeObject, objectPath, resourcePath } from "./objects.ts";
import type { RestClient } from "./rest.ts";
import { apiVersionOf, type GroupVersionKind, type KubeObject, type ObjectKey, objectKey } from "./types.ts";

/** The field manager of every server-side apply the operator makes; `kubectl get -o yaml --show-managed-fields` shows it. */
export const FIELD_MANAGER = "wicked-operator";

/** Options of a server-side apply. */
export interface ApplyOptions {
  /** Take over fields another field manager owns instead of failing with 409 Conflict. */
  force?: boolean;
  /**
   * Apply as another field manager than FIELD_MANAGER, so two writers of one object (e.g. two controllers
   * each owning one item of status.conditions) do not remove each other's fields.
   */
  fieldManager?: string;
}

/** Options of a delete. */
export interface DeleteOptions {
  /** How the garbage collector treats dependents; the kind's default (usually Background) when unset. */
  propagationPolicy?: "Foreground" | "Background";
}

/** Options of a merge patch. */
export interface PatchOptions {
  /** Patch a subresource, e.g. `status`, instead of the object. */
  subresource?: string;
}

/**
 * Writes (and live reads) against the apiserver. All methods throw ApiError for apiserver refusals and
 * TransportError when the apiserver cannot be reached, so a reconciler can let them propagate (retry with
 * backoff) or branch on isConflict/isNotFound.
 */
/** How a list selects and how fresh it must be. */
export interface ListOptions {
  labelSelector?: string;
  /** metadata.name, metadata.namespace and the spec fields a CRD declares selectable, e.g. `spec.apiRef.name=orders`. */
  fieldSelector?: string;
  /**
   * `"0"`: any recent state, from the apiserver's cache without waiting for it to catch up (a consistent
   * list of a kind that rarely changes can wait ~100 ms for that); for reads a moment's staleness cannot hurt.
   */
  resourceVersion?: "0";
}

export interface Client {
  /** Live read; undefined when the object does not exist. */
  get<T extends KubeObject>(gvk: GroupVersionKind, key: ObjectKey): Promise<T | undefined>;
  /** Live list of one namespace (all namespaces when omitted or `""`), optionally selected; paginated. */
  list<T extends KubeObject>(gvk: GroupVersionKind, namespace?: string, options?: ListOptions): Promise<T[]>;
  /** Creates an object; 409 AlreadyExists when it exists (use apply to create-or-update). */
  create<T extends KubeObject>(obj: T): Promise<T>;
  /**
   * Server-side apply of `obj` (which should hold only the fields the operator owns) under FIELD_MANAGER.
   * Creates the object when missing; applying the same intent twice changes nothing (same resourceVersion).
   */
  apply<T extends KubeObject>(obj: T, opts?: ApplyOptions): Promise<T>;
  /**
   * Server-side apply on the status subresource. Forces ownership by default (opts.force defaults to true):
   * status is the controller's to write, and a stale owner left by a manual edit must not block it.
   */
  applyStatus<T extends KubeObject>(obj: T, opts?: ApplyOptions): Promise<T>;
  /** Deletes an object; a missing object counts as deleted. */
  delete(gvk: GroupVersionKind, key: ObjectKey, opts?: DeleteOptions): Promise<void>;
  /**
   * JSON merge patch (RFC 7386). Put `metadata.resourceVersion` in the patch to make it conditional
   * (409 Conflict when the object changed since it was read), as finalizer updates must be.
   */
  patchMerge<T extends KubeObject>(
    gvk: GroupVersionKind,
    key: ObjectKey,
    patch: object,
    opts?: PatchOptions,
  ): Promise<T>;
}

interface ApiResourceList {
  resources: Array<{ name: string; kind: string; namespaced: boolean }>;
}

/**
 * Maps an object's apiVersion and kind to its REST resource. Knows the kinds it was told about and asks the
 * apiserver's discovery for others (a CRD installed later is found on the next miss).
 */
export class RestMapper {
  private readonly known = new Map<string, GroupVersionKind>();

  constructor(
    private readonly rest: RestClient,
    kinds: GroupVersionKind[] = [],
  ) {
    for (const gvk of kinds) this.register(gvk);
  }

  /** Teaches the mapper a kind, so objects of it need no discovery request. */
  register(gvk: GroupVersionKind): void {
    this.known.set(`${apiVersionOf(gvk)}/${gvk.kind}`, gvk);
  }

  /** The GVK (with plural) of an apiVersion and kind; throws UnknownKindError if the apiserver does not serve it. */
  async gvkFor(apiVersion: string, kind: string): Promise<GroupVersionKind> {
    const known = this.known.get(`${apiVersion}/${kind}`);
    if (known) return known;
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const path = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
    const list = await this.rest.request<ApiResourceList>({ method: "GET", path }).catch((err: unknown) => {
      throw isNotFound(err) ? new UnknownKindError(apiVersion, kind) : err;
    });
    for (const resource of list.resources) {
      if (!resource.name.includes("/"))
        this.register({ group, version, kind: resource.kind, plural: resource.name });
    }
    const found = this.known.get(`${apiVersion}/${kind}`);
    if (!found) throw new UnknownKindError(apiVersion, kind);
    return found;
  }
}

interface ListBody {
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

/** Page size of lists: big enough for few round trips, small enough to keep apiserver memory bounded. */
const PAGE_SIZE = 500;

/** The Client over a RestClient. */
export class KubeClient implements Client {
  constructor(
    private readonly rest: RestClient,
    private readonly mapper: RestMapper,
    private readonly fieldManager = FIELD_MANAGER,
  ) {}

  async get<T extends KubeObject>(gvk: GroupVersionKind, key: ObjectKey): Promise<T | undefined> {
    try {
      const raw = await this.rest.request<unknown>({ method: "GET", path: objectPath(gvk, key) });
      return decodeObject<T>(raw, apiVersionOf(gvk), gvk.kind);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(
    gvk: GroupVersionKind,
    namespace = "",
    options: ListOptions = {},
  ): Promise<T[]> {
    const items: T[] = [];
    let continueToken: string | undefined;
    do {
      const page = await this.rest.request<ListBody>({
        method: "GET",
        path: resourcePath(gvk, namespace),
        query: { limit: String(PAGE_SIZE), continue: continueToken, ...options },
      });
      for (const raw of page.items ?? []) items.push(decodeObject<T>(raw, apiVersionOf(gvk), gvk.kind));
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return items;
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const gvk = await this.gvkOf(obj);
    const raw = await this.rest.request<unknown>({
      method: "POST",
      path: resourcePath(gvk, obj.metadata.namespace ?? ""),
      query: { fieldManager: this.fieldManager },
      body: obj,
    });
    return decodeObject<T>(raw);
  }

  apply<T extends KubeObject>(obj: T, opts: ApplyOptions = {}): Promise<T> {
    return this.serverSideApply(obj, undefined, opts.force ?? false, opts.fieldManager);
  }

  applyStatus<T extends KubeObject>(obj: T, opts: ApplyOptions = {}): Promise<T> {
    return this.serverSideApply(obj, "status", opts.force ?? true, opts.fieldManager);
  }

  async delete(gvk: GroupVersionKind, key: ObjectKey, opts: DeleteOptions = {}): Promise<void> {
    try {
      await this.rest.request<unknown>({
        method: "DELETE",
        path: objectPath(gvk, key),
        body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: opts.propagationPolicy },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async patchMerge<T extends KubeObject>(
    gvk: GroupVersionKind,
    key: ObjectKey,
    patch: object,
    opts: PatchOptions = {},
  ): Promise<T> {
    const raw = await this.rest.request<unknown>({
      method: "PATCH",
      path: objectPath(gvk, key, opts.subresource),
      contentType: "application/merge-patch+json",
      query: { fieldManager: this.fieldManager },
      body: patch,
    });
    return decodeObject<T>(raw, apiVersionOf(gvk), gvk.kind);
  }

  private async serverSideApply<T extends KubeObject>(
    obj: T,
    subresource: string | undefined,
    force: boolean,
    fieldManager = this.fieldManager,
  ): Promise<T> {
    const gvk = await this.gvkOf(obj);
    const raw = await this.rest.request<unknown>({
      method: "PATCH",
      path: objectPath(gvk, objectKey(obj), subresource),
      contentType: "application/apply-patch+yaml",
      query: { fieldManager, force: force ? "true" : undefined },
      body: applyBody(obj),
    });
    return decodeObject<T>(raw);
  }

  private async gvkOf(obj: KubeObject): Promise<GroupVersionKind> {
    if (!obj.apiVersion || !obj.kind) {
      throw new TypeError(
        `An object to write needs apiVersion and kind; ${obj.metadata.name ?? "(unnamed)"} has neither`,
      );
    }
    if (!obj.metadata.name && obj.metadata.generateName === undefined) {
      throw new TypeError(`An object of kind ${obj.kind} to write needs metadata.name`);
    }
    return this.mapper.gvkFor(obj.apiVersion, obj.kind);
  }
}
