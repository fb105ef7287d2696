/**
 * What exists in a namespace, as the webhooks see it. Reads are live (not from an informer cache): a
 * webhook that denies must not deny because of a stale cache, e.g. a Subscription applied right after its
 * Plan in the same `kubectl apply -f`. One request makes a handful of reads, each memoized for that request.
 */
import type { Api, ApiClient, ApiPortal, Plan, Subscription } from "../api/v1alpha1/index.ts";
import { API, APICLIENT, APIPORTAL, PLAN, SUBSCRIPTION } from "../operator/gvks.ts";
import type { Client } from "../operator/runtime/client.ts";
import type { GroupVersionKind, KubeObject } from "../operator/runtime/types.ts";

/** The wicked resources of one namespace that cross-object rules look at. */
export interface NamespaceView {
  readonly namespace: string;
  api(name: string): Promise<Api | undefined>;
  plan(name: string): Promise<Plan | undefined>;
  client(name: string): Promise<ApiClient | undefined>;
  apis(): Promise<Api[]>;
  plans(): Promise<Plan[]>;
  portals(): Promise<ApiPortal[]>;
  subscriptions(): Promise<Subscription[]>;
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
  const list = <T>(gvk: GroupVersionKind) =>
    once(`${gvk.kind}*`, () => client.list<T & KubeObject>(gvk, namespace).then((l) => l as T[]));
  return {
    namespace,
    api: (name) => get<Api>(API, name),
    plan: (name) => get<Plan>(PLAN, name),
    client: (name) => get<ApiClient>(APICLIENT, name),
    apis: () => list<Api>(API),
    plans: () => list<Plan>(PLAN),
    portals: () => list<ApiPortal>(APIPORTAL),
    subscriptions: () => list<Subscription>(SUBSCRIPTION),
  };
}

/** True when the object exists and is not being deleted. */
export function alive(obj: { metadata: { deletionTimestamp?: unknown } } | undefined): boolean {
  return obj !== undefined && !obj.metadata.deletionTimestamp;
}
