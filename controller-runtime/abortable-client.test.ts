import { describe, expect, it } from "vitest";
import { abortableClient } from "./abortable-client.ts";
import type { Client } from "./client.ts";
import { FakeClient } from "./testing.ts";
import type { GroupVersionKind, KubeObject } from "./types.ts";

const CONFIGMAP: GroupVersionKind = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" };
const configMap = (name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace: "team", name },
});

describe("abortableClient", () => {
  it("passes every call through while its signal is not aborted", async () => {
    const fake = new FakeClient();
    const client = abortableClient(fake, new AbortController().signal);
    await client.apply(configMap("a"));
    await client.patchMerge(CONFIGMAP, { namespace: "team", name: "a" }, { data: { x: "1" } });
    expect(await client.get(CONFIGMAP, { namespace: "team", name: "a" })).toMatchObject({ data: { x: "1" } });
    expect(await client.list(CONFIGMAP, "team")).toHaveLength(1);
    await client.delete(CONFIGMAP, { namespace: "team", name: "a" });
    expect(fake.writes.map((w) => w.verb)).toEqual(["apply", "patchMerge", "delete"]);
  });

  it("refuses every call once its signal aborted, so nothing reaches the apiserver", async () => {
    const fake = new FakeClient();
    const controller = new AbortController();
    const client = abortableClient(fake, controller.signal);
    const reason = new Error("The reconcile ran past its limit");
    controller.abort(reason);
    await expect(client.apply(configMap("a"))).rejects.toBe(reason);
    await expect(client.applyStatus(configMap("a"))).rejects.toBe(reason);
    await expect(client.create(configMap("b"))).rejects.toBe(reason);
    await expect(client.get(CONFIGMAP, { namespace: "team", name: "a" })).rejects.toBe(reason);
    expect(fake.writes).toEqual([]);
  });

  it("rejects a call still waiting for the apiserver when its signal aborts", async () => {
    const silent = { get: () => new Promise(() => {}) } as unknown as Client;
    const controller = new AbortController();
    const waiting = abortableClient(silent, controller.signal).get(CONFIGMAP, {
      namespace: "team",
      name: "a",
    });
    const reason = new Error("This replica stopped leading");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
