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
  exposed: { status: "False", reason: Reason.ExposureNotConfigured, message: "not exposed" },
  exposure: undefined,
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

  it("is not held back by an unexposed portal or one whose controller has not reported, but is by a refused exposure", () => {
    const exposed = portal("External");
    exposed.spec.exposure = { ingress: {} };
    const unexposed = computeStatus(portal("External"), obs(), t0).status;
    expect(cond(unexposed, "Exposed")).toMatchObject({ status: "False", reason: "ExposureNotConfigured" });
    expect(cond(unexposed, "Ready")?.status).toBe("True");
    const waiting = obs({
      exposed: { status: "Unknown", reason: Reason.WaitingForController, message: "waiting" },
    });
    expect(cond(computeStatus(exposed, waiting, t0).status, "Ready")?.status).toBe("True");
    const refused = computeStatus(
      exposed,
      obs({ exposed: { status: "False", reason: Reason.GatewayApiNotInstalled, message: "install it" } }),
      t0,
    ).status;
    expect(cond(refused, "Ready")).toMatchObject({ status: "False", message: "Exposed: install it" });
  });

  it("writes status.exposure while the portal is exposed and drops it when it no longer is", () => {
    const exposure = {
      kind: "Ingress" as const,
      routes: [
        { name: "portal" as const, url: "https://p.example.com", service: "p-portal-ui", object: "p" },
      ],
    };
    const first = computeStatus(portal("External"), obs({ exposure }), t0);
    expect(first.status.exposure).toEqual(exposure);
    const same = computeStatus(portal("External", first.status), obs({ exposure }), t1);
    expect(same.changed).toBe(false);
    const off = computeStatus(portal("External", first.status), obs(), t1);
    expect(off.changed).toBe(true);
    expect(off.status.exposure).toBeUndefined();
    expect("exposure" in off.status).toBe(false);
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
