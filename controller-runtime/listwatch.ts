/** The informer's list and watch functions for a real apiserver, both through the RestClient. */
import type { Source } from "./cache.ts";
import type { ListFn, WatchFn } from "./informer.ts";
import { decodeObject, leanObject, resourcePath } from "./objects.ts";
import type { RestClient } from "./rest.ts";
import { apiVersionOf, type GroupVersionKind } from "./types.ts";

interface ListBody {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

/**
 * Lists and watches one kind, in one namespace or (namespace `""`) in all, optionally only the objects
 * matching a label or field selector. Lists read from etcd (no resourceVersion), so a relist after 410 Gone
 * sees the latest state.
 */
export function apiserverListWatch(
  rest: RestClient,
  gvk: GroupVersionKind,
  source: Source = { namespace: "" },
): { list: ListFn; watch: WatchFn } {
  const path = resourcePath(gvk, source.namespace);
  const selectors = {
    ...(source.labelSelector ? { labelSelector: source.labelSelector } : {}),
    ...(source.fieldSelector ? { fieldSelector: source.fieldSelector } : {}),
  };
  const apiVersion = apiVersionOf(gvk);
  const list: ListFn = async ({ limit, continue: continueToken }) => {
    const body = await rest.request<ListBody>({
      method: "GET",
      path,
      query: { limit: String(limit), continue: continueToken, ...selectors },
    });
    return {
      items: (body.items ?? []).map((raw) => leanObject(decodeObject(raw, apiVersion, gvk.kind))),
      resourceVersion: body.metadata?.resourceVersion ?? "",
      continue: body.metadata?.continue || undefined,
    };
  };
  const watch: WatchFn = (req, onEvent, onDone) =>
    rest.watch(
      {
        path,
        query: {
          resourceVersion: req.resourceVersion,
          allowWatchBookmarks: String(req.allowWatchBookmarks),
          timeoutSeconds: String(req.timeoutSeconds),
          ...selectors,
        },
      },
      (type, obj) =>
        onEvent(type, type === "ERROR" ? obj : leanObject(decodeObject(obj, apiVersion, gvk.kind))),
      onDone,
    );
  return { list, watch };
}
