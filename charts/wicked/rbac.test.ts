/**
 * The operator's ClusterRole and leader-election role in the chart grant exactly what the code uses: derived
 * from the controllers operator/main.ts registers and a scan of what they write. A new watch, a new write
 * or a role rule nothing uses fails this test.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { ManagerOptions } from "../../controller-runtime/manager.ts";
import { operatorConfigFromEnv, startOperator } from "../../operator/main.ts";
import {
  difference,
  expandRules,
  neededPermissions,
  type Permission,
  type Registrations,
  scanAccesses,
  templateRoles,
} from "./rbac.ts";

const captured = vi.hoisted(() => ({ options: undefined as ManagerOptions | undefined }));

vi.mock("../../controller-runtime/manager.ts", () => ({
  createManager(options: ManagerOptions) {
    captured.options = options;
    return { start: async () => {}, stop: async () => {}, registry: new Registry() };
  },
}));

/** The ManagerOptions operator/main.ts builds, without starting anything. */
async function registrations(): Promise<Registrations> {
  const dir = mkdtempSync(join(tmpdir(), "wicked-rbac-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1" } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
    }),
  );
  const running = await startOperator({ ...operatorConfigFromEnv({}), kubeconfig });
  await running.stop();
  const options = captured.options;
  if (!options) throw new Error("operator/main.ts did not create a manager");
  return {
    controllers: options.controllers,
    ...(options.cacheKinds ? { cacheKinds: options.cacheKinds } : {}),
    ...(options.leaderElection ? { leaderElection: options.leaderElection } : {}),
  };
}

let scan: ReturnType<typeof scanAccesses>;
let needed: { cluster: Set<Permission>; leaderElection: Set<Permission> };

// Loading the operator's source into ts-morph takes a while on a busy machine.
beforeAll(async () => {
  scan = scanAccesses();
  needed = neededPermissions(await registrations(), scan);
}, 180_000);

describe("the operator's RBAC in the chart", () => {
  it("grants exactly what the registered controllers and their writes need, cluster-wide", () => {
    expect(difference(expandRules(templateRoles().operator), needed.cluster)).toEqual({
      extra: [],
      missing: [],
    });
  });

  it("grants the leader-election Lease of operator/main.ts and nothing else", () => {
    expect([...needed.leaderElection].sort()).toEqual([
      "coordination.k8s.io/leases:create",
      "coordination.k8s.io/leases:get@wicked-operator",
      "coordination.k8s.io/leases:patch@wicked-operator",
    ]);
    expect(difference(expandRules(templateRoles().leaderElection), needed.leaderElection)).toEqual({
      extra: [],
      missing: [],
    });
  });

  it("sees the writes the controllers make (a scan that found nothing would prove nothing)", () => {
    const found = new Set(scan.accesses.flatMap((a) => a.verbs.map((v) => `${a.gvk.kind}:${v}`)));
    for (const expected of [
      "Secret:create",
      "Secret:patch",
      "Secret:get",
      "Secret:delete",
      "Deployment:create",
    ])
      expect(found).toContain(expected);
    expect(scan.writesStatus).toBe(true);
    expect(scan.recordsEvents).toBe(true);
  });

  it("reports a rule the code does not use and one it lacks", () => {
    const rules = templateRoles().operator.map((r) => ({ ...r, verbs: [...r.verbs] }));
    const secrets = rules.find((r) => r.resources?.includes("secrets"));
    secrets?.verbs.splice(secrets.verbs.indexOf("delete"), 1);
    rules.push({ apiGroups: [""], resources: ["pods"], verbs: ["list"] });
    expect(difference(expandRules(rules), needed.cluster)).toEqual({
      extra: ["/pods:list"],
      missing: ["/secrets:delete"],
    });
  });
});
