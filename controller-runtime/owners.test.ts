import { describe, expect, it } from "vitest";
import { controllerOwnerKey, controllerReference, groupOf } from "./owners.ts";
import type { KubeObject } from "./types.ts";

const portal = { group: "wicked.dev", version: "v1alpha1", kind: "ApiPortal", plural: "apiportals" };

function owned(refs: NonNullable<KubeObject["metadata"]["ownerReferences"]>): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { namespace: "team-a", name: "portal-ui", ownerReferences: refs },
  };
}

describe("controllerOwnerKey", () => {
  it("maps an object to its controller owner of the primary kind, in the object's namespace", () => {
    const obj = owned([
      { apiVersion: "wicked.dev/v1alpha1", kind: "ApiPortal", name: "main", uid: "u1", controller: true },
    ]);
    expect(controllerOwnerKey(obj, portal)).toEqual({ namespace: "team-a", name: "main" });
  });

  it("maps owner references written under another version of the same group", () => {
    const obj = owned([
      { apiVersion: "wicked.dev/v1beta1", kind: "ApiPortal", name: "main", uid: "u1", controller: true },
    ]);
    expect(controllerOwnerKey(obj, portal)).toEqual({ namespace: "team-a", name: "main" });
  });

  it("ignores owners that are not the controller, of another kind, or of another group", () => {
    expect(
      controllerOwnerKey(
        owned([{ apiVersion: "wicked.dev/v1alpha1", kind: "ApiPortal", name: "x", uid: "u" }]),
        portal,
      ),
    ).toBeUndefined();
    expect(
      controllerOwnerKey(
        owned([{ apiVersion: "wicked.dev/v1alpha1", kind: "Api", name: "x", uid: "u", controller: true }]),
        portal,
      ),
    ).toBeUndefined();
    expect(
      controllerOwnerKey(
        owned([
          { apiVersion: "other.dev/v1alpha1", kind: "ApiPortal", name: "x", uid: "u", controller: true },
        ]),
        portal,
      ),
    ).toBeUndefined();
    expect(controllerOwnerKey({ metadata: { name: "plain", namespace: "n" } }, portal)).toBeUndefined();
  });

  it("picks the controller among several owners", () => {
    const obj = owned([
      { apiVersion: "wicked.dev/v1alpha1", kind: "ApiPortal", name: "other", uid: "u0" },
      { apiVersion: "wicked.dev/v1alpha1", kind: "ApiPortal", name: "main", uid: "u1", controller: true },
    ]);
    expect(controllerOwnerKey(obj, portal)?.name).toBe("main");
  });

  it("knows the core group", () => {
    expect(groupOf("v1")).toBe("");
    expect(groupOf("apps/v1")).toBe("apps");
    const cm = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" };
    const obj = owned([{ apiVersion: "v1", kind: "ConfigMap", name: "cfg", uid: "u", controller: true }]);
    expect(controllerOwnerKey(obj, cm)?.name).toBe("cfg");
  });
});

describe("controllerReference", () => {
  it("makes a blocking controller reference from an object read from the apiserver", () => {
    const owner = {
      apiVersion: "wicked.dev/v1alpha1",
      kind: "ApiPortal",
      metadata: { name: "main", uid: "u1" },
    };
    expect(controllerReference(owner)).toEqual({
      apiVersion: "wicked.dev/v1alpha1",
      kind: "ApiPortal",
      name: "main",
      uid: "u1",
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(() => controllerReference({ ...owner, metadata: { name: "main" } })).toThrow(/uid/);
  });
});
