/**
 * The operator's least-privilege RBAC, proven with the real apiserver (opt-in: WICKED_RBAC_SUITE=1, because
 * it runs the operator's integration suite a second time, which takes minutes):
 *
 * 1. The chart is installed and the operator's integration suite (operator/controllers/*.int.test.ts) runs
 *    in a child vitest with the operator authenticating as the chart's ServiceAccount (a TokenRequest token,
 *    so RBAC applies; not system:masters) through WICKED_TEST_OPERATOR_KUBECONFIG.
 * 2. Every request the operator makes passes through a recording proxy, so the test sees what it used: no
 *    request may be forbidden, and every rule of the roles must have been used by some request, except the
 *    ones listed in NOT_EXERCISABLE with the reason the local control plane cannot exercise them. A rule
 *    nobody uses fails the test: remove it from the chart.
 * 3. A short scenario afterwards exercises what the suite does not (revoking an approved subscription
 *    deletes its credentials Secret; a repeated Event patches its series).
 *
 * The leader-election ClusterRole is bound cluster-wide here (the chart binds it only in its namespace): the
 * suite runs each operator with POD_NAMESPACE set to a namespace it creates at random.
 */
import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eventually, getObject } from "../../test/support/cluster.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";
import { createNamespace, installCrds, kubectl, kubectlOk } from "../../test/support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../../test/support/operator-process.ts";
import { expandRules, type Permission, type PolicyRule, permission } from "./rbac.ts";
import {
  CHART,
  helm,
  helmOk,
  type RecordingProxy,
  requestAttributes,
  serviceAccountKubeconfig,
  startRecordingProxy,
} from "./testing.ts";

const kubeconfig = inject("kubeconfig");
const enabled = process.env.WICKED_RBAC_SUITE === "1";
const id = Math.random().toString(36).slice(2, 8);
const release = `rbac-${id}`;
const namespace = `wicked-rbac-${id}`;
const serviceAccount = `${release}-wicked-operator`;
/** Where the child suite's whole output goes. */
const SUITE_LOG = join(tmpdir(), `wicked-rbac-suite-${id}.log`);

/** The release's component ClusterRoles, which the operator binds per portal (and may bind only those). */
const componentRoles = {
  WICKED_PORTAL_API_CLUSTERROLE: `${release}-wicked-portal-api`,
  WICKED_AUTH_SERVER_CLUSTERROLE: `${release}-wicked-auth-server`,
};

/** Rules the local control plane cannot make the operator use, and why. */
const NOT_EXERCISABLE: Record<Permission, string> = {
  [permission("wicked.dev", "apiportals/finalizers", "update")]:
    "checked only by the OwnerReferencesPermissionEnforcement admission plugin, which the local apiserver does not enable",
  [permission("wicked.dev", "subscriptions/finalizers", "update")]:
    "checked only by the OwnerReferencesPermissionEnforcement admission plugin, which the local apiserver does not enable",
};

let proxy: RecordingProxy;
let operatorKubeconfig: string;
let granted: Set<Permission>;
let database: TestDatabase | undefined;
let operator: OperatorProcess | undefined;

/** Runs the operator's integration suite in a child vitest; resolves with its exit code and output. */
function runOperatorSuite(): Promise<{ code: number; output: string }> {
  const files = readdirSync("operator/controllers")
    .filter((f) => f.endsWith(".int.test.ts"))
    .map((f) => `operator/controllers/${f}`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")));
  return new Promise((resolve) => {
    // Longer timeouts than the suite's own: the operators talk through the recording proxy, and on a busy
    // machine the leader-election tests overrun 60 s even with admin credentials.
    const args = ["run", "--project", "integration", "--testTimeout=180000", ...files];
    const child = spawn("node_modules/.bin/vitest", args, {
      env: {
        ...env,
        KUBECONFIG: kubeconfig,
        USER_KUBECONFIG: inject("userKubeconfig"),
        DATABASE_URL: inject("databaseUrl"),
        WICKED_TEST_OPERATOR_KUBECONFIG: operatorKubeconfig,
        ...componentRoles,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.on("exit", (code) => {
      writeFileSync(SUITE_LOG, output);
      resolve({ code: code ?? -1, output });
    });
  });
}

/** The granted permissions some recorded request used. */
function used(): { used: Set<Permission>; forbidden: string[]; ungranted: string[] } {
  const usedSet = new Set<Permission>();
  const forbidden: string[] = [];
  const ungranted: string[] = [];
  for (const r of proxy.requests) {
    const a = requestAttributes(r.method, r.url);
    if (!a) continue;
    if (r.status === 403) forbidden.push(`${r.method} ${r.url}`);
    // A server-side apply that creates its object (201) is authorized as patch and as create.
    const verbs = a.verb === "patch" && r.status === 201 ? ["patch", "create"] : [a.verb];
    for (const verb of verbs) {
      const exact = permission(a.group, a.resource, verb);
      const named = a.name ? permission(a.group, a.resource, verb, a.name) : undefined;
      const match = granted.has(exact) ? exact : named && granted.has(named) ? named : undefined;
      if (match) usedSet.add(match);
      else ungranted.push(`${r.method} ${r.url} (${named ?? exact})`);
    }
  }
  return { used: usedSet, forbidden, ungranted };
}

describe.skipIf(!enabled)("the operator as the chart's ServiceAccount", () => {
  beforeAll(async () => {
    installCrds(kubeconfig);
    kubectlOk(kubeconfig, ["create", "namespace", namespace]);
    // The webhooks would need a server; the approval policy is the same as config/admission's.
    helmOk(
      [
        "install",
        release,
        CHART,
        "--namespace",
        namespace,
        "--set",
        "webhooks.enabled=false,approvalPolicy.enabled=false",
      ],
      kubeconfig,
    );
    kubectlOk(kubeconfig, [
      "create",
      "clusterrolebinding",
      `${release}-leases-anywhere`,
      `--clusterrole=${serviceAccount}-leader-election`,
      `--serviceaccount=${namespace}:${serviceAccount}`,
    ]);
    const roles = (name: string) =>
      (
        JSON.parse(kubectlOk(kubeconfig, ["get", "clusterrole", name, "-o", "json"])) as {
          rules: PolicyRule[];
        }
      ).rules;
    granted = new Set([
      ...expandRules(roles(serviceAccount)),
      ...expandRules(roles(`${serviceAccount}-leader-election`)),
    ]);
    proxy = await startRecordingProxy(kubeconfig);
    operatorKubeconfig = serviceAccountKubeconfig(kubeconfig, namespace, serviceAccount, proxy);
    // kubectl runs synchronously, so it cannot go through the proxy in this process: ask directly, with
    // another token of the same ServiceAccount.
    const direct = serviceAccountKubeconfig(kubeconfig, namespace, serviceAccount);
    const whoami = JSON.parse(kubectlOk(direct, ["auth", "whoami", "-o", "json"]));
    expect(whoami.status.userInfo.username).toBe(`system:serviceaccount:${namespace}:${serviceAccount}`);
    expect(whoami.status.userInfo.groups).not.toContain("system:masters");
  });

  afterAll(async () => {
    await operator?.stop();
    await database?.drop();
    await proxy?.close();
    kubectl(kubeconfig, ["delete", "clusterrolebinding", `${release}-leases-anywhere`, "--ignore-not-found"]);
    helm(["uninstall", release, "--namespace", namespace, "--ignore-not-found"], kubeconfig);
    kubectl(kubeconfig, ["delete", "namespace", namespace, "--wait=false"]);
  });

  it(
    "passes the operator's integration suite with no request forbidden",
    async () => {
      const { code, output } = await runOperatorSuite();
      const failures = output.split("\n").filter((line) => /×|FAIL|Error:/.test(line));
      expect(code, `the suite failed (whole output in ${SUITE_LOG}):\n${failures.join("\n")}`).toBe(0);
      const { forbidden, ungranted } = used();
      expect(forbidden).toEqual([]);
      expect(ungranted).toEqual([]);
    },
    45 * 60_000,
  );

  it(
    "exercises the rest: revoking an approval deletes the credentials, a repeated Event joins its series",
    async () => {
      const ns = createNamespace(kubeconfig, "rbac-extra");
      database = await createTestDatabase(inject("databaseUrl"));
      kubectlOk(kubeconfig, [
        "create",
        "secret",
        "generic",
        "db",
        "-n",
        ns,
        `--from-literal=url=${database.url}`,
      ]);
      const apply = (manifest: object) =>
        kubectlOk(
          kubeconfig,
          ["apply", "-n", ns, "-f", "-"],
          JSON.stringify({ apiVersion: "wicked.dev/v1alpha1", ...manifest }),
        );
      apply({
        kind: "ApiPortal",
        metadata: { name: "portal" },
        spec: {
          displayName: "Portal",
          urls: { portal: "https://developer.example.com", gateway: "https://api.example.com" },
          database: { urlSecretRef: { name: "db", key: "url" } },
          gateway: { mode: "None" },
        },
      });
      apply({
        kind: "Plan",
        metadata: { name: "gold" },
        spec: { displayName: "Gold", requiresApproval: true },
      });
      apply({
        kind: "Api",
        metadata: { name: "orders" },
        spec: {
          displayName: "Orders",
          upstream: { url: "http://orders" },
          routes: [{ paths: ["/o"] }],
          plans: ["gold"],
        },
      });
      apply({
        kind: "ApiClient",
        metadata: { name: "app" },
        spec: { displayName: "App", owner: "dev@example.com" },
      });
      const sub = (approval: object, rotation?: string) =>
        apply({
          kind: "Subscription",
          metadata: { name: "app-orders" },
          spec: {
            clientRef: { name: "app" },
            apiRef: { name: "orders" },
            planRef: { name: "gold" },
            approval,
            ...(rotation ? { credentials: { rotation: { requestedAt: rotation } } } : {}),
          },
        });
      sub({ decision: "Approved", decidedBy: "amy@example.com", plan: "gold" });
      process.env.WICKED_TEST_OPERATOR_KUBECONFIG = operatorKubeconfig;
      try {
        operator = await startOperatorProcess(kubeconfig, "rbac-extra", {
          POD_NAMESPACE: ns,
          ...componentRoles,
        });
      } finally {
        delete process.env.WICKED_TEST_OPERATOR_KUBECONFIG;
      }
      const logs = () => operator?.logs().slice(-3000) ?? "";
      const secret = () => getObject(kubeconfig, "secret", "app-orders-credentials", ns);
      await eventually("the credentials Secret", () => secret(), 90_000, logs);
      // Two rotations record the same Event twice: the second patches the first's series.
      const rotatedAt = (n: number) => new Date(Date.now() + n * 1000).toISOString().replace(/\.\d+Z$/, "Z");
      for (const n of [1, 2]) {
        const before = secret()?.data?.apiKey;
        sub({ decision: "Approved", decidedBy: "amy@example.com", plan: "gold" }, rotatedAt(n));
        await eventually(`rotation ${n}`, () => secret()?.data?.apiKey !== before, 90_000, logs);
      }
      sub({ decision: "Rejected", decidedBy: "amy@example.com", reason: "revoked" });
      await eventually("the credentials Secret to go", () => !secret(), 90_000, logs);
      await operator?.stop();
      operator = undefined;
      kubectl(kubeconfig, ["delete", "namespace", ns, "--wait=false"]);

      const { used: usedSet, forbidden, ungranted } = used();
      expect(forbidden).toEqual([]);
      expect(ungranted).toEqual([]);
      const unused = [...granted].filter((p) => !usedSet.has(p) && !(p in NOT_EXERCISABLE)).sort();
      expect(unused, "rules no request used: remove them from the chart, or exercise them").toEqual([]);
      console.log(
        `RBAC audit: ${usedSet.size} of ${granted.size} granted permissions used by ${proxy.requests.length} requests; not exercisable here: ${Object.keys(NOT_EXERCISABLE).join(", ")}`,
      );
    },
    10 * 60_000,
  );
});
