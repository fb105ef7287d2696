import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ApiPortal } from "../../api/v1alpha1/index.ts";
import { computeStatus, type PortalObservations, Reason } from "./status.ts";

const portal = (mode: "External" | "None", status?: ApiPortal["status"]): ApiPortal => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind: "ApiPortal",
  metadata: { name: "p", namespace: "ns", generation: 3 },
  spec: {
    displayName: "P",
    urls: { portal: "https://p.example.com", gateway: "https://api.example.com" },
    database: { urlSecretRef: { name: "db", key: "url" } },
    gateway: { mode },
  },
  ...(status ? { status } : {}),
});

const available = {
  metadata: { generation: 1 },
  spec: { replicas: 1 },
  status: { observedGeneration: 1, updatedReplicas: 1, availableReplicas: 1 },
} as V1Deployment;
const obs = (over: Partial<PortalObservations> = {}): PortalObservations => ({
  database: { status: "True", reason: Reason.Migrated, message: "ok", schemaVersion: "0001_initial" },
  gateway: { status: "True", reason: Reason.AdminApiReachable, message: "ok" },
  deployments: [{ component: "portal-ui", deployment: available }],
  urls: { portal: "https://p.example.com" },
  ...over,
});
const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T01:00:00Z");
const cond = (s: ApiPortal["status"], type: string) => s?.conditions?.find((c) => c.type === type);

describe("computeStatus", () => {
  it("is Ready when database, gateway and components are", () => {
    const { status } = computeStatus(portal("External"), obs(), t0);
    expect(cond(status, "Ready")).toMatchObject({
      status: "True",
      reason: "PortalReady",
      observedGeneration: 3,
    });
    expect(status.schemaVersion).toBe("0001_initial");
  });

  it("says which causes keep it from being Ready", () => {
    const { status } = computeStatus(
      portal("External"),
      obs({
        database: { status: "False", reason: Reason.SecretNotFound, message: "Secret ns/db does not exist" },
        deployments: [{ component: "portal-ui", deployment: undefined }],
      }),
      t0,
    );
    expect(cond(status, "Ready")).toMatchObject({ status: "False", reason: "NotReady" });
    expect(cond(status, "Ready")?.message).toContain("DatabaseReady: Secret ns/db does not exist");
    expect(cond(status, "Ready")?.message).toContain("portal-ui (not rolled out yet)");
    expect(cond(status, "ComponentsAvailable")?.status).toBe("False");
  });

  it("does not need a gateway when none is configured, but says so", () => {
    const { status } = computeStatus(
      portal("None"),
      obs({ gateway: { status: "False", reason: Reason.GatewayNotConfigured, message: "none" } }),
      t0,
    );
    expect(cond(status, "GatewayReady")).toMatchObject({ status: "False", reason: "GatewayNotConfigured" });
    expect(cond(status, "Ready")?.status).toBe("True");
  });

  it("reports no change, and keeps transition times, when nothing changed", () => {
    const first = computeStatus(portal("External"), obs(), t0).status;
    const second = computeStatus(portal("External", first), obs(), t1);
    expect(second.changed).toBe(false);
    const third = computeStatus(
      portal("External", first),
      obs({ gateway: { status: "False", reason: Reason.AdminApiUnreachable, message: "down" } }),
      t1,
    );
    expect(third.changed).toBe(true);
    expect(cond(third.status, "GatewayReady")?.lastTransitionTime).not.toBe(
      cond(first, "GatewayReady")?.lastTransitionTime,
    );
    expect(cond(third.status, "DatabaseReady")?.lastTransitionTime).toBe(
      cond(first, "DatabaseReady")?.lastTransitionTime,
    );
  });
});
