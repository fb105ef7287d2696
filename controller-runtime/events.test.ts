import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.ts";
import { ApiEventRecorder, EVENT_GVK, type KubeEvent } from "./events.ts";
import { FakeClient } from "./testing.ts";
import type { KubeObject } from "./types.ts";

const portal: KubeObject = {
  apiVersion: "wicked.dev/v1alpha1",
  kind: "ApiPortal",
  metadata: { namespace: "team", name: "main", uid: "u-1" },
};

function setup(now = () => new Date("2025-05-01T08:00:00.000Z")) {
  const client = new FakeClient();
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const recorder = new ApiEventRecorder({
    client,
    logger: pino(sink),
    reportingController: "wicked.dev/operator",
    reportingInstance: "operator-0",
    now,
  });
  return { client, recorder, logs };
}

describe("ApiEventRecorder", () => {
  it("creates an events.k8s.io/v1 Event about the object", async () => {
    const { client, recorder } = setup();
    await recorder.event(portal, "Normal", "Created", "Created Deployment portal-ui", "Create");
    const [event] = await client.list<KubeEvent>(EVENT_GVK, "team");
    expect(event).toMatchObject({
      metadata: { namespace: "team" },
      eventTime: "2025-05-01T08:00:00.000000Z",
      reportingController: "wicked.dev/operator",
      reportingInstance: "operator-0",
      action: "Create",
      reason: "Created",
      type: "Normal",
      note: "Created Deployment portal-ui",
      regarding: {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "ApiPortal",
        namespace: "team",
        name: "main",
        uid: "u-1",
      },
    });
    expect(event?.metadata.name).toMatch(/^main\.[0-9a-f]+$/);
  });

  it("aggregates a repeated event into a series instead of creating more Events", async () => {
    let t = Date.parse("2025-05-01T08:00:00.000Z");
    const { client, recorder } = setup(() => {
      t += 1000;
      return new Date(t);
    });
    await Promise.all([
      recorder.event(portal, "Warning", "DatabaseUnreachable", "connection refused"),
      recorder.event(portal, "Warning", "DatabaseUnreachable", "connection refused"),
    ]);
    await recorder.event(portal, "Warning", "DatabaseUnreachable", "connection refused");
    await recorder.event(portal, "Warning", "DatabaseUnreachable", "password authentication failed");
    const events = await client.list<KubeEvent>(EVENT_GVK, "team");
    expect(events).toHaveLength(2);
    const refused = events.find((e) => e.note === "connection refused");
    expect(refused?.series).toEqual({ count: 3, lastObservedTime: "2025-05-01T08:00:03.000000Z" });
    expect(events.find((e) => e.note !== "connection refused")?.series).toBeUndefined();
  });

  it("starts a new Event when the series' Event is gone", async () => {
    const { client, recorder } = setup();
    await recorder.event(portal, "Normal", "Synced", "ok");
    const [first] = await client.list<KubeEvent>(EVENT_GVK, "team");
    await client.delete(EVENT_GVK, { namespace: "team", name: first?.metadata.name ?? "" });
    await recorder.event(portal, "Normal", "Synced", "ok");
    const events = await client.list<KubeEvent>(EVENT_GVK, "team");
    expect(events).toHaveLength(1);
    expect(events[0]?.metadata.name).not.toBe(first?.metadata.name);
  });

  it("puts Events about cluster-scoped objects in default and truncates long notes", async () => {
    const { client, recorder } = setup();
    await recorder.event(
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } },
      "Normal",
      "Seen",
      "x".repeat(5000),
    );
    const [event] = await client.list<KubeEvent>(EVENT_GVK, "default");
    expect(event?.note).toHaveLength(1024);
  });

  it("never throws into the caller; it logs the failure", async () => {
    const { client, recorder, logs } = setup();
    client.failWith = () => new ApiError("POST events", 403, "Forbidden");
    await expect(recorder.event(portal, "Normal", "Created", "hello")).resolves.toBeUndefined();
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: "Failed to record Event Created on ApiPortal",
        namespace: "team",
        name: "main",
      }),
    );
  });
});
