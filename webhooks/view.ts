/**
 * What exists in a namespace, as the webhooks see it. Reads are live (not from an informer cache): a
 * webhook that denies must not deny because of a stale cache, e.g. a Subscription applied right after its
 * Plan in the same `kubectl apply -f`. One request makes a handful of small reads, each memoized for that
 * request; only what feeds a warning may come from the apiserver's cache (`cachedPortals`).
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";
import type { Api, ApiClient, ApiPortal, Plan, Subscription } from "../api/v1alpha1/index.ts";
import type { Client, ListOptions } from "../controller-runtime/client.ts";
import type { GroupVersionKind, KubeObject } from "../controller-runtime/types.ts";
import { API, APICLIENT, APIPORTAL, PLAN, SECRET, SUBSCRIPTION } from "../operator/gvks.ts";

/** The wicked resources of one namespace that cross-object rules look at. */
export interface NamespaceView {
  readonly namespace: string;
  api(name: string): Promise<Api | undefined>;
  plan(name: string): Promise<Plan | undefined>;
  client(name: string): Promise<ApiClient | undefined>;
  apis(): Promise<Api[]>;
  plans(): Promise<Plan[]>;
  portals(): Promise<ApiPortal[]>;
  /**
   * The ApiPortals as the apiserver's cache holds them, a moment behind at most: for warnings, not denials.
   * A consistent list of a kind that rarely changes waits for the cache to catch up (~100 ms per request).
   */
  cachedPortals(): Promise<ApiPortal[]>;
  /**
   * The Subscriptions to one Api (of one ApiClient, when named), selected by the apiserver through the CRD's
   * selectable fields: an admission reads those, not every Subscription of the namespace.
   */
  subscriptionsTo(api: string, client?: string): Promise<Subscription[]>;
  /** A Secret's metadata only (its data is never kept); undefined when it does not exist. */
  secretMetadata(name: string): Promise<V1ObjectMeta | undefined>;
}

/** The part of the operator runtime's Client the view reads with. */
export type ReadClient = Pick<Client, "get" | "list">;

/** A NamespaceView reading through `client`, memoizing each read for the life of the view (one request). */
export function liveView(client: ReadClient, namespace: string): NamespaceView {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let hit = memo.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = read();
      memo.set(key, hit);
    }
    return hit;
  };
  const get = <T>(gvk: GroupVersionKind, name: string) =>
    once(`${gvk.kind}/${name}`, () =>
      client.get<T & KubeObject>(gvk, { namespace, name }).then((o) => o as T | undefined),
    );
  const list = <T>(gvk: GroupVersionKind, options: ListOptions = {}) =>
    once(`${gvk.kind}*${JSON.stringify(options)}`, () =>
      client.list<T & KubeObject>(gvk, namespace, options).then((l) => l as T[]),
    );
  return {
    namespace,
    api: (name) => get<Api>(API, name),
    plan: (name) => get<Plan>(PLAN, name),
    client: (name) => get<ApiClient>(APICLIENT, name),
    apis: () => list<Api>(API),
    plans: () => list<Plan>(PLAN),
    portals: () => list<ApiPortal>(APIPORTAL),
    cachedPortals: () => list<ApiPortal>(APIPORTAL, { resourceVersion: "0" }),
    subscriptionsTo: (api, clientName) =>
      list<Subscription>(SUBSCRIPTION, {
        fieldSelector: [
          `spec.apiRef.name=${api}`,
          ...(clientName ? [`spec.clientRef.name=${clientName}`] : []),
        ].join(","),
      }),
    secretMetadata: (name) => get<{ metadata: V1ObjectMeta }>(SECRET, name).then((s) => s?.metadata),
  };
}

/** True when the object exists and is not being deleted. */
export function alive(obj: { metadata: { deletionTimestamp?: unknown } } | undefined): boolean {
  return obj !== undefined && !obj.metadata.deletionTimestamp;
}
