/**
 * The Argo CD health check in docs/argocd.md, run with Lua 5.1 (the language version of Argo CD's
 * gopher-lua) against wicked objects in each state. Skipped where no `lua5.1` is installed
 * (`apt-get install lua5.1`).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const lua = spawnSync("lua5.1", ["-v"]).status === 0;

/** The Lua script of the health check, as the doc shows it. */
function healthScript(): string {
  const doc = readFileSync("docs/argocd.md", "utf8");
  const block = /resource\.customizations\.health\.wicked\.dev_\*: \|\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/argocd.md has no wicked.dev health check");
  return block
    .split("\n")
    .map((line) => line.replace(/^ {4}/, ""))
    .join("\n");
}

/** A JSON value as a Lua table constructor. */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (Array.isArray(value)) return `{${value.map(toLua).join(", ")}}`;
  if (typeof value === "object")
    return `{${Object.entries(value)
      .map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`)
      .join(", ")}}`;
  return JSON.stringify(value);
}

/** Runs the health check on `obj` and returns Argo CD's status and message. */
function health(obj: object): { status: string; message: string } {
  const program = `local obj = ${toLua(obj)}\nlocal function check()\n${healthScript()}\nend\nlocal hs = check()\nio.write(hs.status, "\\t", hs.message or "")`;
  const r = spawnSync("lua5.1", ["-"], { input: program, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const [status = "", message = ""] = r.stdout.split("\t");
  return { status, message };
}

const condition = (type: string, status: string, reason: string, message = `${type} ${reason}`) => ({
  type,
  status,
  reason,
  message,
});
const object = (kind: string, conditions?: object[], observedGeneration = 2) => ({
  apiVersion: "wicked.dev/v1alpha1",
  kind,
  metadata: { name: "x", generation: 2 },
  ...(conditions ? { status: { observedGeneration, conditions } } : {}),
});

describe.skipIf(!lua)("the Argo CD health check of docs/argocd.md", () => {
  it("waits for a status and for the latest generation", () => {
    expect(health(object("Api")).status).toBe("Progressing");
    expect(health(object("Api", [condition("Ready", "True", "Ready")], 1))).toEqual({
      status: "Progressing",
      message: "Waiting for the wicked operator to observe generation 2",
    });
  });

  it("is Healthy when Ready is True", () => {
    expect(health(object("Plan", [condition("Ready", "True", "Ready", "offered")]))).toEqual({
      status: "Healthy",
      message: "offered",
    });
  });

  it("is Suspended while an approver has to decide, Degraded for a rejection", () => {
    expect(health(object("Subscription", [condition("Ready", "False", "PendingApproval")])).status).toBe(
      "Suspended",
    );
    expect(health(object("Subscription", [condition("Ready", "False", "Rejected", "no")]))).toEqual({
      status: "Degraded",
      message: "no",
    });
  });

  it("is Progressing while references catch up, Degraded for a missing one", () => {
    expect(health(object("Api", [condition("Ready", "False", "PortalNotReady")])).status).toBe("Progressing");
    expect(health(object("Api", [condition("Ready", "False", "RefNotFound")])).status).toBe("Degraded");
  });

  it("tells a portal rolling out from one whose database is broken", () => {
    const rolling = [
      condition("Ready", "False", "NotReady"),
      condition("DatabaseReady", "True", "Migrated"),
      condition("GatewayReady", "False", "GatewayNotConfigured"),
      condition("ComponentsAvailable", "False", "ComponentsUnavailable"),
    ];
    expect(health(object("ApiPortal", rolling)).status).toBe("Progressing");
    const broken = [
      condition("Ready", "False", "NotReady"),
      condition("DatabaseReady", "False", "AuthenticationFailed", "the password is wrong"),
    ];
    expect(health(object("ApiPortal", broken))).toEqual({
      status: "Degraded",
      message: "DatabaseReady: the password is wrong",
    });
  });
});
