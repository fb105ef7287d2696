import { describe, expect, it } from "vitest";
import { applyBody, decodeObject, leanObject, objectPath, resourcePath } from "./objects.ts";
import { microTime, rfc3339, toDate } from "./time.ts";
import { keyString, parseKey } from "./types.ts";

describe("resourcePath", () => {
  const cm = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" };
  const portal = { group: "wicked.dev", version: "v1alpha1", kind: "ApiPortal", plural: "apiportals" };

  it("builds core, named-group, namespaced, cluster-wide and subresource paths", () => {
    expect(resourcePath(cm, "")).toBe("/api/v1/configmaps");
    expect(resourcePath(cm, "team")).toBe("/api/v1/namespaces/team/configmaps");
    expect(objectPath(portal, { namespace: "team", name: "main" }, "status")).toBe(
      "/apis/wicked.dev/v1alpha1/namespaces/team/apiportals/main/status",
    );
    expect(
      objectPath({ ...cm, kind: "Namespace", plural: "namespaces" }, { namespace: "", name: "team" }),
    ).toBe("/api/v1/namespaces/team");
  });
});

describe("decodeObject", () => {
  it("fills in apiVersion and kind of list items and keeps the apiserver's timestamps as strings", () => {
    const obj = decodeObject(
      { metadata: { name: "x", creationTimestamp: "2025-01-02T03:04:05Z" }, data: { a: "1" } },
      "v1",
      "ConfigMap",
    );
    expect(obj).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", creationTimestamp: "2025-01-02T03:04:05Z" },
      data: { a: "1" },
    });
    expect(
      decodeObject({ apiVersion: "apps/v1", kind: "Deployment", metadata: {} }, "v1", "ConfigMap"),
    ).toMatchObject({
      apiVersion: "apps/v1",
      kind: "Deployment",
    });
  });
});

describe("applyBody", () => {
  it("drops managedFields, resourceVersion and read-only timestamps but keeps the intent", () => {
    const body = applyBody({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "x",
        namespace: "n",
        labels: { a: "b" },
        resourceVersion: "5",
        creationTimestamp: toDate("2025-01-02T03:04:05Z"),
        managedFields: [],
      },
    });
    expect(body).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", namespace: "n", labels: { a: "b" } },
    });
  });
});

describe("keys and times", () => {
  it("round-trips keys", () => {
    expect(keyString({ namespace: "a", name: "b" })).toBe("a/b");
    expect(keyString({ namespace: "", name: "b" })).toBe("b");
    expect(parseKey("a/b")).toEqual({ namespace: "a", name: "b" });
    expect(parseKey("b")).toEqual({ namespace: "", name: "b" });
  });

  it("formats metav1.Time and MicroTime as the apiserver parses them", () => {
    const d = new Date("2025-01-02T03:04:05.678Z");
    expect(rfc3339(d)).toBe("2025-01-02T03:04:05Z");
    expect(microTime(d)).toBe("2025-01-02T03:04:05.678000Z");
  });

  it("reads timestamps as Dates whether they are strings or Dates", () => {
    expect(toDate("2025-01-02T03:04:05Z")).toEqual(new Date("2025-01-02T03:04:05Z"));
    const d = new Date();
    expect(toDate(d)).toBe(d);
    expect(toDate(undefined)).toBeUndefined();
    expect(toDate("not a time")).toBeUndefined();
  });
});

describe("leanObject", () => {
  it("drops managedFields and kubectl's last-applied annotation, and keeps the other annotations", () => {
    const obj = leanObject({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "s",
        managedFields: [{ manager: "kubectl" }],
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{…}", "wicked.dev/x": "y" },
      },
    });
    expect(obj.metadata).toEqual({ name: "s", annotations: { "wicked.dev/x": "y" } });
  });

  it("keeps every value as it was while it shares the repeated ones (conditions, labels, finalizers)", () => {
    const wire = () => ({
      apiVersion: "wicked.dev/v1alpha1",
      kind: "Subscription",
      metadata: {
        name: "a",
        namespace: "shop",
        labels: { team: "payments" },
        finalizers: ["wicked.dev/read-model"],
      },
      spec: { apiRef: { name: "orders" } },
      status: {
        phase: "Active",
        credentialsSecret: "a-credentials",
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Ready",
            message: "ok",
            lastTransitionTime: "2026-12-05T01:00:00Z",
          },
        ],
      },
    });
    expect(leanObject(wire())).toEqual(wire());
  });
});
