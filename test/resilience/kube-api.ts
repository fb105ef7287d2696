/**
 * Asynchronous access to the apiserver for the resilience and bad-input suites. kubectl runs synchronously
 * and blocks the event loop, where the in-process Kong test double must keep answering the operator; these
 * helpers use the operator runtime's RestClient instead, so polling 500 objects never stalls the double.
 */
import { GROUP, VERSION } from "../../api/v1alpha1/index.ts";
import { ApiError } from "../../controller-runtime/errors.ts";
import { kubeconfigAccess } from "../../controller-runtime/kubeconfig.ts";
import { RestClient } from "../../controller-runtime/rest.ts";
import type { Json } from "../support/cluster.ts";

/** A cluster of a kubeconfig, spoken to over HTTPS without blocking. */
export interface KubeApi {
  /** The raw client, for requests the helpers below do not cover. */
  rest: RestClient;
  /** Lists the wicked objects of a plural (`subscriptions`, `apis`, …) in a namespace. */
  listWicked(plural: string, namespace: string): Promise<Json[]>;
  /** Reads one wicked object; undefined when it does not exist. */
  getWicked(plural: string, namespace: string, name: string): Promise<Json | undefined>;
  /** Creates a wicked object; an object that already exists is left as it is (returns false). */
  createWicked(plural: string, namespace: string, manifest: Json): Promise<boolean>;
  /** Merge-patches a wicked object (its spec or metadata, not its status); returns the object as stored. */
  patchWicked(plural: string, namespace: string, name: string, patch: Json): Promise<Json>;
  /** The Secrets of a namespace, their data decoded, by name. */
  secrets(namespace: string): Promise<Map<string, Record<string, string>>>;
  /** Deletes an object by API path; a missing object is fine. */
  deletePath(path: string): Promise<void>;
  /**
   * Deletes a namespace with everything in it, first taking the finalizers off wicked's objects: with no
   * operator left to run them they would hold the namespace forever, and the operators of later test files
   * (which watch every namespace) would inherit the leftovers.
   */
  deleteNamespace(namespace: string): Promise<void>;
}

/** The plurals of every wicked kind. */
export const WICKED_PLURALS = ["subscriptions", "apiclients", "apis", "plans", "apiportals"] as const;

/** The collection path of a wicked kind in a namespace. */
export function wickedPath(plural: string, namespace: string): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;
}

/** The KubeApi of a kubeconfig file. */
export function kubeApi(kubeconfigPath: string): KubeApi {
  const rest = new RestClient(kubeconfigAccess(kubeconfigPath));
  const list = async (path: string): Promise<Json[]> => {
    const items: Json[] = [];
    let token: string | undefined;
    do {
      const page = await rest.request<{ items?: Json[]; metadata?: { continue?: string } }>({
        method: "GET",
        path,
        query: { limit: "500", continue: token },
      });
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  };
  const deletePath = async (path: string): Promise<void> => {
    try {
      await rest.request({ method: "DELETE", path });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  };
  return {
    rest,
    listWicked: (plural, namespace) => list(wickedPath(plural, namespace)),
    async getWicked(plural, namespace, name) {
      try {
        return await rest.request<Json>({ method: "GET", path: `${wickedPath(plural, namespace)}/${name}` });
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return undefined;
        throw err;
      }
    },
    async createWicked(plural, namespace, manifest) {
      try {
        await rest.request({ method: "POST", path: wickedPath(plural, namespace), body: manifest });
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.code === 409 && err.reason === "AlreadyExists") return false;
        throw err;
      }
    },
    patchWicked: (plural, namespace, name, patch) =>
      rest.request<Json>({
        method: "PATCH",
        path: `${wickedPath(plural, namespace)}/${name}`,
        contentType: "application/merge-patch+json",
        body: patch,
      }),
    async secrets(namespace) {
      const items = await list(`/api/v1/namespaces/${namespace}/secrets`);
      return new Map(
        items.map((s) => [
          String(s.metadata?.name),
          Object.fromEntries(
            Object.entries((s.data ?? {}) as Record<string, string>).map(([k, v]) => [
              k,
              Buffer.from(v, "base64").toString("utf8"),
            ]),
          ),
        ]),
      );
    },
    deletePath,
    async deleteNamespace(namespace) {
      for (const plural of WICKED_PLURALS) {
        const objects = await list(wickedPath(plural, namespace));
        await forEachLimited(objects, 8, async (o) => {
          if (!o.metadata?.finalizers?.length) return;
          try {
            await rest.request({
              method: "PATCH",
              path: `${wickedPath(plural, namespace)}/${o.metadata.name}`,
              contentType: "application/merge-patch+json",
              body: { metadata: { finalizers: null } },
            });
          } catch (err) {
            if (!(err instanceof ApiError && err.code === 404)) throw err;
          }
        });
      }
      await deletePath(`/api/v1/namespaces/${namespace}`);
    },
  };
}

/** Runs `work` over the items with at most `limit` running at once; rejects with the first failure. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
