/**
 * The informer's list and watch functions for a real apiserver: lists through the RestClient, watches
 * through client-node's Watch (which streams and parses the newline-delimited events).
 */
import * as k8s from "@kubernetes/client-node";
import type { ListFn, WatchFn } from "./informer.ts";
import { decodeObject, resourcePath } from "./objects.ts";
import type { RestClient } from "./rest.ts";
import { apiVersionOf, type GroupVersionKind } from "./types.ts";

interface ListBody {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

/**
 * Lists and watches one kind, in one namespace or (namespace `""`) in all. Lists read from etcd (no
 * resourceVersion), so a relist after 410 Gone sees the latest state.
 */
export function apiserverListWatch(
  kubeConfig: k8s.KubeConfig,
  rest: RestClient,
  gvk: GroupVersionKind,
  namespace = "",
): { list: ListFn; watch: WatchFn } {
  const path = resourcePath(gvk, namespace);
  const apiVersion = apiVersionOf(gvk);
  const list: ListFn = async ({ limit, continue: continueToken }) => {
    const body = await rest.request<ListBody>({
      method: "GET",
      path,
      query: { limit: String(limit), continue: continueToken },
    });
    return {
      items: (body.items ?? []).map((raw) => decodeObject(raw, apiVersion, gvk.kind)),
      resourceVersion: body.metadata?.resourceVersion ?? "",
      continue: body.metadata?.continue || undefined,
    };
  };
  const watcher = new k8s.Watch(kubeConfig);
  const watch: WatchFn = async (req, onEvent, onDone) => {
    const controller = await watcher.watch(
      path,
      {
        resourceVersion: req.resourceVersion,
        allowWatchBookmarks: req.allowWatchBookmarks,
        timeoutSeconds: req.timeoutSeconds,
      },
      (type: string, obj: unknown) =>
        onEvent(type, type === "ERROR" ? obj : decodeObject(obj, apiVersion, gvk.kind)),
      onDone,
    );
    return { stop: () => controller.abort() };
  };
  return { list, watch };
}
