import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ApiError, isConflict } from "./errors.ts";
import { ApiEventRecorder, EVENT_GVK, type KubeEvent } from "./events.ts";
import { withFinalizer } from "./finalizer.ts";
import { CONFIGMAP_GVK, clientFor, createNamespace, eventually, loadKubeConfig } from "./testing-cluster.ts";
import type { GroupVersionKind, KubeObject } from "./types.ts";

const kc = loadKubeConfig(inject("kubeconfig"));
const { client, rest } = clientFor(kc);
const WIDGET: GroupVersionKind = {
  group: "runtime.test.wicked.dev",
  version: "v1",
  kind: "Widget",
  plural: "widgets",
};
const CRD: GroupVersionKind = {
  group: "apiextensions.k8s.io",
  version: "v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
};
let ns: { name: string; remove(): Promise<void> };

type ConfigMap = KubeObject & { data?: Record<string, string> };
type Widget = KubeObject & {
  spec?: { size?: number };
  status?: { phase?: string; observedGeneration?: number };
};

beforeAll(async () => {
  ns = await createNamespace(client, "rt-client");
  await client.apply({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${WIDGET.plural}.${WIDGET.group}` },
    spec: {
      group: WIDGET.group,
      names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
      scope: "Namespaced",
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  });
  await eventually("the Widget CRD to be established", async () => {
    const crd = await client.get<
      KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
    >(CRD, { namespace: "", name: `${WIDGET.plural}.${WIDGET.group}` });
    return crd?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
  });
});

afterAll(async () => {
  await client.delete(CRD, { namespace: "", name: `${WIDGET.plural}.${WIDGET.group}` });
  await ns.remove();
});

const cm = (name: string, data: Record<string, string>): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace: ns.name, name, labels: { app: "runtime-test" } },
  data,
});

describe("KubeClient server-side apply", () => {
  it("creates with the wicked-operator field manager, and applying the same intent twice changes nothing", async () => {
    const first = await client.apply(cm("ssa", { a: "1" }));
    const second = await client.apply(cm("ssa", { a: "1" }));
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(first.metadata.managedFields?.map((f) => [f.manager, f.operation])).toEqual([
      ["wicked-operator", "Apply"],
    ]);
    const changed = await client.apply(cm("ssa", { a: "2" }));
    expect(changed.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    expect(changed.data).toEqual({ a: "2" });
  });

  it("removes fields it no longer applies, and accepts an object read back (managedFields, resourceVersion)", async () => {
    await client.apply(cm("prune", { keep: "1", drop: "1" }));
    const read = await client.get<ConfigMap>(CONFIGMAP_GVK, { namespace: ns.name, name: "prune" });
    if (!read) throw new Error("applied ConfigMap not found");
    const applied = await client.apply({ ...read, metadata: { ...read.metadata }, data: { keep: "1" } });
    expect(applied.data).toEqual({ keep: "1" });
  });

  it("fails with 409 Conflict on fields another manager owns, unless forced", async () => {
    await rest.request({
      method: "PATCH",
      path: `/api/v1/namespaces/${ns.name}/configmaps/shared`,
      query: { fieldManager: "someone-else" },
      contentType: "application/apply-patch+yaml",
      body: cm("shared", { owner: "someone-else" }),
    });
    const err = await client.apply(cm("shared", { owner: "wicked" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(isConflict(err)).toBe(true);
    const forced = await client.apply(cm("shared", { owner: "wicked" }), { force: true });
    expect(forced.data).toEqual({ owner: "wicked" });
  });

  it("applies status through the status subresource without touching spec, and vice versa", async () => {
    const widget: Widget = {
      apiVersion: `${WIDGET.group}/v1`,
      kind: "Widget",
      metadata: { namespace: ns.name, name: "w" },
      spec: { size: 3 },
    };
    const created = await client.apply(widget);
    const withStatus = await client.applyStatus<Widget>({
      apiVersion: widget.apiVersion,
      kind: widget.kind,
      metadata: { namespace: ns.name, name: "w" },
      status: { phase: "Ready", observedGeneration: created.metadata.generation },
    });
    expect(withStatus.status).toEqual({ phase: "Ready", observedGeneration: 1 });
    expect(withStatus.spec).toEqual({ size: 3 });
    expect(withStatus.metadata.generation).toBe(1);
    const again = await client.applyStatus<Widget>({
      apiVersion: widget.apiVersion,
      kind: widget.kind,
      metadata: { namespace: ns.name, name: "w" },
      status: { phase: "Ready", observedGeneration: 1 },
    });
    expect(again.metadata.resourceVersion).toBe(withStatus.metadata.resourceVersion);
    const ignored = await client.apply({ ...widget, status: { phase: "Hacked" } } as Widget);
    expect(ignored.status?.phase).toBe("Ready");
  });
});

describe("KubeClient reads and deletes", () => {
  it("returns undefined for a missing object and treats deleting one as success", async () => {
    expect(await client.get(CONFIGMAP_GVK, { namespace: ns.name, name: "missing" })).toBeUndefined();
    await expect(
      client.delete(CONFIGMAP_GVK, { namespace: ns.name, name: "missing" }),
    ).resolves.toBeUndefined();
  });

  it("lists by namespace and label selector with kind and apiVersion filled in", async () => {
    await client.apply(cm("listed", { a: "1" }));
    const listed = await client.list<ConfigMap>(CONFIGMAP_GVK, ns.name, {
      labelSelector: "app=runtime-test",
    });
    expect(listed.length).toBeGreaterThanOrEqual(1);
    expect(listed.every((o) => o.kind === "ConfigMap" && o.apiVersion === "v1")).toBe(true);
    expect(listed.every((o) => o.metadata.labels?.app === "runtime-test")).toBe(true);
    expect(await client.list(CONFIGMAP_GVK, ns.name, { labelSelector: "app=nothing" })).toEqual([]);
  });

  it("makes a merge patch conditional on the resourceVersion", async () => {
    const obj = await client.apply(cm("cas", { a: "1" }));
    await client.apply(cm("cas", { a: "2" }));
    const err = await client
      .patchMerge(
        CONFIGMAP_GVK,
        { namespace: ns.name, name: "cas" },
        {
          metadata: { resourceVersion: obj.metadata.resourceVersion },
          data: { a: "3" },
        },
      )
      .catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
  });
});

describe("withFinalizer against the apiserver", () => {
  it("adds the finalizer, blocks deletion until cleanup ran, then lets the object go", async () => {
    const key = { namespace: ns.name, name: "finalized" };
    const finalizer = "runtime.test.wicked.dev/cleanup";
    const calls: string[] = [];
    const handlers = {
      apply: async (o: ConfigMap) => {
        calls.push("apply");
        expect(o.metadata.finalizers).toContain(finalizer);
        return {};
      },
      cleanup: async () => {
        calls.push("cleanup");
        return {};
      },
    };
    const created = await client.apply(cm("finalized", { a: "1" }));
    await withFinalizer(client, CONFIGMAP_GVK, created, finalizer, handlers);
    const live = await client.get<ConfigMap>(CONFIGMAP_GVK, key);
    expect(live?.metadata.finalizers).toEqual([finalizer]);
    if (!live) throw new Error("finalized ConfigMap vanished");
    await withFinalizer(client, CONFIGMAP_GVK, live, finalizer, handlers);
    expect(calls).toEqual(["apply", "apply"]);

    await client.delete(CONFIGMAP_GVK, key);
    const deleting = await client.get<ConfigMap>(CONFIGMAP_GVK, key);
    expect(deleting?.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    if (!deleting) throw new Error("the finalizer did not hold the ConfigMap");
    await withFinalizer(client, CONFIGMAP_GVK, deleting, finalizer, handlers);
    expect(calls).toEqual(["apply", "apply", "cleanup"]);
    expect(await client.get(CONFIGMAP_GVK, key)).toBeUndefined();
    // A stale copy (a second reconcile of the same event): cleanup runs again and "not found" is success.
    await expect(withFinalizer(client, CONFIGMAP_GVK, deleting, finalizer, handlers)).resolves.toEqual({});
  });
});

describe("ApiEventRecorder against the apiserver", () => {
  it("creates Events the apiserver accepts and aggregates repeats into a series", async () => {
    const subject = await client.apply(cm("evented", { a: "1" }));
    const recorder = new ApiEventRecorder({
      client,
      logger: pino({ level: "silent" }),
      reportingController: "wicked.dev/operator",
      reportingInstance: "runtime-test",
    });
    await recorder.event(subject, "Normal", "Configured", "Configured ConfigMap evented");
    await recorder.event(subject, "Normal", "Configured", "Configured ConfigMap evented");
    await recorder.event(subject, "Normal", "Configured", "Configured ConfigMap evented");
    await recorder.event(subject, "Warning", "Invalid", "Key a must not be 1", "Validate");
    const namespaceObj = await client.get<KubeObject>(
      { group: "", version: "v1", kind: "Namespace", plural: "namespaces" },
      { namespace: "", name: ns.name },
    );
    if (!namespaceObj) throw new Error("test namespace missing");
    await recorder.event(namespaceObj, "Normal", "Seen", "Saw Namespace");
    const events = await client.list<KubeEvent>(EVENT_GVK, ns.name);
    expect(events).toHaveLength(2);
    expect(events.find((e) => e.reason === "Configured")).toMatchObject({
      type: "Normal",
      action: "Configured",
      note: "Configured ConfigMap evented",
      regarding: { kind: "ConfigMap", name: "evented", namespace: ns.name, uid: subject.metadata.uid },
      series: { count: 3 },
    });
    expect(events.find((e) => e.reason === "Invalid")).toMatchObject({ type: "Warning", action: "Validate" });
    const clusterScoped = await client.list<KubeEvent>(EVENT_GVK, "default");
    expect(clusterScoped.some((e) => e.regarding.name === ns.name && e.reason === "Seen")).toBe(true);
  });
});
