/**
 * The informer's list and watch functions for a real apiserver: lists through the RestClient, watches
 * through client-node's Watch (which streams and parses the newline-delimited events).
 */
import * as k8s from "@kubernetes/client-node";
import type { ListFn, WatchFn } from "./informer.ts";
import { decodeObject, resourcePath } from "./objects.ts";
import type { RestClient } from "./rest.ts";
import { apiVersionOf, type GroupVersionKind } from "./types.ts";

/**
 * client-node 2's Watch aborts a watch that has sent nothing for 30 s (its private `requestTimeoutMs`): on a
 * quiet cluster every watch dropped twice a minute and the informer backed off before watching again. The
 * informer asks the apiserver to close each watch after `timeoutSeconds` and has a watchdog of its own for
 * a silent connection, so the client's timer is pushed past both.
 */
export const CLIENT_WATCH_INACTIVITY_MS = 60 * 60_000;

/** A client-node Watch without its 30 s inactivity timeout (see CLIENT_WATCH_INACTIVITY_MS). */
export function patientWatch(kubeConfig: k8s.KubeConfig): k8s.Watch {
  const watcher = new k8s.Watch(kubeConfig);
  if (!("requestTimeoutMs" in watcher))
    throw new Error("client-node's Watch no longer has requestTimeoutMs; see CLIENT_WATCH_INACTIVITY_MS");
  Object.assign(watcher, { requestTimeoutMs: CLIENT_WATCH_INACTIVITY_MS });
  return watcher;
}

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
  const watcher = patientWatch(kubeConfig);
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
