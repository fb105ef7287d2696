import { describe, expect, it } from "vitest";
import { isConflict } from "./errors.ts";
import { addFinalizer, removeFinalizer, withFinalizer } from "./finalizer.ts";
import { FakeClient } from "./testing.ts";
import type { KubeObject, Result } from "./types.ts";

const CM = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" };
const FINALIZER = "wicked.dev/cleanup";
const key = { namespace: "team", name: "cfg" };

function setup(finalizers?: string[]) {
  const client = new FakeClient();
  const obj = client.seed<KubeObject>({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { ...key, finalizers },
  });
  const calls: string[] = [];
  const handlers = {
    apply: async (o: KubeObject): Promise<Result> => {
      calls.push(`apply ${o.metadata.finalizers?.join(",")}`);
      return { requeueAfterMs: 60_000 };
    },
    cleanup: async (): Promise<Result> => {
      calls.push("cleanup");
      return {};
    },
  };
  return { client, obj, calls, handlers };
}

describe("withFinalizer", () => {
  it("adds the finalizer before apply, and returns apply's result", async () => {
    const { client, obj, calls, handlers } = setup();
    expect(await withFinalizer(client, CM, obj, FINALIZER, handlers)).toEqual({ requeueAfterMs: 60_000 });
    expect(calls).toEqual([`apply ${FINALIZER}`]);
    expect((await client.get(CM, key))?.metadata.finalizers).toEqual([FINALIZER]);
  });

  it("does nothing for an object deleted before its finalizer could be added (a cache behind the apiserver)", async () => {
    const { client, obj, calls, handlers } = setup();
    await client.delete(CM, key);
    expect(await withFinalizer(client, CM, obj, FINALIZER, handlers)).toEqual({});
    expect(calls).toEqual([]);
  });

  it("is idempotent: with the finalizer in place it only applies", async () => {
    const { client, calls, handlers } = setup([FINALIZER]);
    const current = await client.get<KubeObject>(CM, key);
    if (!current) throw new Error("seeded object missing");
    await withFinalizer(client, CM, current, FINALIZER, handlers);
    expect(calls).toEqual([`apply ${FINALIZER}`]);
    expect(client.writes).toEqual([]);
  });

  it("on deletion cleans up, then removes only its own finalizer", async () => {
    const { client, calls, handlers } = setup(["other.dev/keep", FINALIZER]);
    await client.delete(CM, key);
    const deleting = await client.get<KubeObject>(CM, key);
    if (!deleting) throw new Error("object vanished despite finalizers");
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    expect(await withFinalizer(client, CM, deleting, FINALIZER, handlers)).toEqual({});
    expect(calls).toEqual(["cleanup"]);
    expect((await client.get(CM, key))?.metadata.finalizers).toEqual(["other.dev/keep"]);
  });

  it("lets the deletion complete once the last finalizer is removed", async () => {
    const { client, handlers } = setup([FINALIZER]);
    await client.delete(CM, key);
    const deleting = await client.get<KubeObject>(CM, key);
    if (!deleting) throw new Error("object vanished despite finalizers");
    await withFinalizer(client, CM, deleting, FINALIZER, handlers);
    expect(await client.get(CM, key)).toBeUndefined();
  });

  it("keeps the finalizer when cleanup fails, so cleanup runs again", async () => {
    const { client, handlers } = setup([FINALIZER]);
    await client.delete(CM, key);
    const deleting = await client.get<KubeObject>(CM, key);
    if (!deleting) throw new Error("object vanished despite finalizers");
    const failing = {
      ...handlers,
      cleanup: async (): Promise<Result> => Promise.reject(new Error("Kong unreachable")),
    };
    await expect(withFinalizer(client, CM, deleting, FINALIZER, failing)).rejects.toThrow("Kong unreachable");
    expect((await client.get(CM, key))?.metadata.finalizers).toEqual([FINALIZER]);
  });

  it("does nothing for an object being deleted without its finalizer", async () => {
    const { client, calls, handlers } = setup(["other.dev/keep"]);
    await client.delete(CM, key);
    const deleting = await client.get<KubeObject>(CM, key);
    if (!deleting) throw new Error("object vanished despite finalizers");
    client.writes.length = 0;
    expect(await withFinalizer(client, CM, deleting, FINALIZER, handlers)).toEqual({});
    expect(calls).toEqual([]);
    expect(client.writes).toEqual([]);
  });
});

describe("addFinalizer and removeFinalizer", () => {
  it("are conditional on the resourceVersion read", async () => {
    const { client, obj } = setup();
    await client.patchMerge(CM, key, { metadata: { labels: { changed: "meanwhile" } } });
    const err = await addFinalizer(client, CM, obj, FINALIZER).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
  });

  it("report whether they changed anything, and treat a vanished object as done", async () => {
    const { client, obj } = setup();
    const added = await addFinalizer(client, CM, obj, FINALIZER);
    expect(added.changed).toBe(true);
    expect((await addFinalizer(client, CM, added.obj, FINALIZER)).changed).toBe(false);
    expect(await removeFinalizer(client, CM, obj, FINALIZER)).toBe(false);
    await client.patchMerge(CM, key, { metadata: { finalizers: null } });
    await client.delete(CM, key);
    expect(await removeFinalizer(client, CM, added.obj, FINALIZER)).toBe(true);
  });
});
