import type { V1Deployment, V1Job } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ApiPortal, ManagedKongSpec } from "../../api/v1alpha1/index.ts";
import {
  gatewayAdminUrl,
  KONG_HASH_ANNOTATION,
  kongDatabaseSettings,
  kongHash,
  planKongRollout,
  renderKongDatabaseSecret,
  renderKongDeployment,
  renderKongNetworkPolicy,
  renderKongServices,
  renderMigrationJob,
} from "./managed-kong.ts";

function portal(managed: Partial<ManagedKongSpec> = {}): ApiPortal {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { name: "developer-portal", namespace: "shop", uid: "uid-1", generation: 1 },
    spec: {
      displayName: "Shop",
      urls: { portal: "https://developer.shop.example.com", gateway: "https://api.shop.example.com" },
      database: { urlSecretRef: { name: "db", key: "url" } },
      gateway: {
        mode: "Managed",
        managed: { databaseUrlSecretRef: { name: "kong-db", key: "url" }, ...managed },
      },
    },
  };
}

const settings = { KONG_PG_HOST: "db", KONG_PG_PASSWORD: "pw" };

const job = (hash: string, condition?: "Complete" | "Failed"): V1Job => ({
  metadata: { annotations: { [KONG_HASH_ANNOTATION]: hash } },
  status: condition ? { conditions: [{ type: condition, status: "True" }] } : {},
});
const deployment = (hash: string, available: number, updated = available): V1Deployment => ({
  metadata: { generation: 2 },
  spec: {
    replicas: 2,
    selector: {},
    template: { metadata: { annotations: { [KONG_HASH_ANNOTATION]: hash } } },
  },
  status: { observedGeneration: 2, updatedReplicas: updated, availableReplicas: available },
});

describe("the managed Kong's objects", () => {
  it("talks to the external Kong, the managed Kong's Admin Service, or none", () => {
    expect(gatewayAdminUrl(portal())).toBe("http://developer-portal-kong-admin.shop.svc:8001");
    const external = portal();
    external.spec.gateway = { mode: "External", adminUrl: "http://kong-admin.kong:8001" };
    expect(gatewayAdminUrl(external)).toBe("http://kong-admin.kong:8001");
    external.spec.gateway = { mode: "None" };
    expect(gatewayAdminUrl(external)).toBeUndefined();
  });

  it("derives KONG_PG_* from the database URL, with sslmode mapped onto pg_ssl and pg_ssl_verify", () => {
    expect(kongDatabaseSettings("postgres://kong:p%40ss@db.example.com/kong")).toEqual({
      settings: {
        KONG_PG_HOST: "db.example.com",
        KONG_PG_PORT: "5432",
        KONG_PG_USER: "kong",
        KONG_PG_PASSWORD: "p@ss",
        KONG_PG_DATABASE: "kong",
        KONG_PG_SSL: "off",
        KONG_PG_SSL_VERIFY: "off",
      },
    });
    expect(kongDatabaseSettings("postgresql://k:x@[fd00::1]:6432/gw?sslmode=verify-full")).toMatchObject({
      settings: {
        KONG_PG_HOST: "fd00::1",
        KONG_PG_PORT: "6432",
        KONG_PG_DATABASE: "gw",
        KONG_PG_SSL: "on",
        KONG_PG_SSL_VERIFY: "on",
        KONG_LUA_SSL_TRUSTED_CERTIFICATE: "system",
      },
    });
    expect(kongDatabaseSettings("postgres://k@db/kong?sslmode=require")).toMatchObject({
      settings: { KONG_PG_SSL: "on", KONG_PG_SSL_VERIFY: "off", KONG_PG_PASSWORD: "" },
    });
    for (const [url, why] of [
      ["kong@db.example.com/kong", "is not a URL"],
      ["mysql://k:x@db/kong", "has the scheme mysql, not postgres"],
      ["postgres://db/kong", "names no user"],
    ])
      expect(kongDatabaseSettings(url as string)).toMatchObject({
        problem: {
          status: "False",
          reason: "InvalidDatabaseUrl",
          message: expect.stringContaining(why as string),
        },
      });
  });

  it("keeps the database password in a Secret the pods take as environment, never in the Deployment", () => {
    const secret = renderKongDatabaseSecret(portal(), settings);
    expect(secret.metadata.name).toBe("developer-portal-kong-database");
    expect(secret.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("wicked-operator");
    expect(Buffer.from(secret.data?.KONG_PG_PASSWORD ?? "", "base64").toString()).toBe("pw");
    const d = renderKongDeployment(portal(), "h1");
    expect(JSON.stringify(d)).not.toContain("pw");
    expect(d.spec?.template.spec?.containers[0]?.envFrom).toEqual([
      { secretRef: { name: "developer-portal-kong-database" } },
    ]);
  });

  it("renders Kong in DB mode under the restricted Pod Security Standard, image overridable, probed on /status/ready", () => {
    const d = renderKongDeployment(portal(), "h1");
    expect(d.metadata.name).toBe("developer-portal-kong");
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.template.metadata?.annotations).toEqual({ [KONG_HASH_ANNOTATION]: "h1" });
    const pod = d.spec?.template.spec;
    const kong = pod?.containers[0];
    expect(kong?.image).toBe("kong:3.9");
    expect(kong?.command).toBeUndefined();
    expect(kong?.args).toBeUndefined();
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(kong?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(Object.fromEntries((kong?.env ?? []).map((e) => [e.name, e.value]))).toMatchObject({
      KONG_DATABASE: "postgres",
      KONG_PREFIX: "/kong_prefix",
      KONG_PROXY_LISTEN: "0.0.0.0:8000",
      KONG_ADMIN_LISTEN: "0.0.0.0:8001",
      KONG_STATUS_LISTEN: "0.0.0.0:8100",
    });
    expect(kong?.readinessProbe?.httpGet).toEqual({ path: "/status/ready", port: "status" });
    expect(pod?.automountServiceAccountToken).toBe(false);

    const custom = renderKongDeployment(
      portal({
        image: "registry.example.com/kong:3.9.1",
        replicas: 3,
        resources: { limits: { memory: "2Gi" } },
      }),
      "h1",
    );
    expect(custom.spec?.replicas).toBe(3);
    expect(custom.spec?.template.spec?.containers[0]?.image).toBe("registry.example.com/kong:3.9.1");
    expect(custom.spec?.template.spec?.containers[0]?.resources?.limits).toEqual({ memory: "2Gi" });
  });

  it("runs bootstrap then up in the migrate Job and finish in its own, with the same image and settings", () => {
    const migrate = renderMigrationJob(portal({ image: "kong:3.10" }), "migrate", "h2");
    expect(migrate.metadata.name).toBe("developer-portal-kong-migrate");
    expect(migrate.metadata.annotations).toEqual({ [KONG_HASH_ANNOTATION]: "h2" });
    const pod = migrate.spec?.template.spec;
    expect(pod?.restartPolicy).toBe("Never");
    expect(pod?.initContainers?.map((c) => c.args)).toEqual([["kong", "migrations", "bootstrap"]]);
    expect(pod?.containers.map((c) => c.args)).toEqual([["kong", "migrations", "up"]]);
    expect(pod?.containers[0]?.image).toBe("kong:3.10");
    const finish = renderMigrationJob(portal(), "finish", "h2");
    expect(finish.metadata.name).toBe("developer-portal-kong-finish");
    expect(finish.spec?.template.spec?.containers.map((c) => c.args)).toEqual([
      ["kong", "migrations", "finish"],
    ]);
    expect(finish.spec?.template.spec?.initContainers).toBeUndefined();
  });

  it("exposes the proxy on port 80 and the Admin API on 8001, and admits the Admin API only from the portal's and the operator's namespaces", () => {
    const [proxy, admin] = renderKongServices(portal());
    expect(proxy?.metadata.name).toBe("developer-portal-kong-proxy");
    expect(proxy?.spec?.ports).toEqual([{ name: "proxy", port: 80, targetPort: "proxy", protocol: "TCP" }]);
    expect(admin?.metadata.name).toBe("developer-portal-kong-admin");
    expect(admin?.spec?.ports).toEqual([{ name: "admin", port: 8001, targetPort: "admin", protocol: "TCP" }]);
    const policy = renderKongNetworkPolicy(portal(), "wicked-system");
    expect(policy.spec.podSelector.matchLabels).toEqual(proxy?.spec?.selector);
    expect(policy.spec.ingress).toEqual([
      {
        ports: [
          { protocol: "TCP", port: 8000 },
          { protocol: "TCP", port: 8100 },
        ],
      },
      {
        from: [
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } } },
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "wicked-system" } } },
        ],
        ports: [{ protocol: "TCP", port: 8001 }],
      },
    ]);
    expect(renderKongNetworkPolicy(portal(), "shop").spec.ingress[1]?.from).toHaveLength(1);
  });

  it("hashes image and database together, keyed: either change runs the migrations again", () => {
    const key = Buffer.from("portal session key");
    const h = kongHash(portal(), settings, key);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(kongHash(portal({ image: "kong:3.10" }), settings, key)).not.toBe(h);
    expect(kongHash(portal(), { ...settings, KONG_PG_HOST: "db2" }, key)).not.toBe(h);
    expect(kongHash(portal(), { ...settings, KONG_PG_PASSWORD: "new" }, key)).not.toBe(h);
    expect(kongHash(portal({ replicas: 5 }), settings, key)).toBe(h);
    // Keyed: without the portal's key, the annotation says nothing about the password.
    expect(kongHash(portal(), settings, Buffer.from("another key"))).not.toBe(h);
  });
});

describe("planKongRollout", () => {
  it("installs in order: bootstrap and up, then the Deployment, then finish once it rolled out", () => {
    const p = portal();
    const fresh = planKongRollout(p, "h1", {});
    expect(fresh.jobs.map((j) => j.metadata.name)).toEqual(["developer-portal-kong-migrate"]);
    expect(fresh.applyDeployment).toBe(false);
    expect(fresh.progress).toContain("running kong migrations bootstrap and up with kong:3.9");

    const migrating = planKongRollout(p, "h1", { migrateJob: job("h1") });
    expect(migrating.applyDeployment).toBe(false);

    const migrated = planKongRollout(p, "h1", { migrateJob: job("h1", "Complete") });
    expect(migrated.applyDeployment).toBe(true);
    expect(migrated.jobs.map((j) => j.metadata.name)).toEqual(["developer-portal-kong-migrate"]);
    expect(migrated.progress).toBe("rolling out kong:3.9");

    const rolling = planKongRollout(p, "h1", {
      migrateJob: job("h1", "Complete"),
      deployment: deployment("h1", 1, 1),
    });
    expect(rolling.jobs).toHaveLength(1);
    expect(rolling.progress).toBe("rolling out kong:3.9 (1/2 updated)");

    const rolled = planKongRollout(p, "h1", {
      migrateJob: job("h1", "Complete"),
      deployment: deployment("h1", 2),
    });
    expect(rolled.jobs.map((j) => j.metadata.name)).toEqual([
      "developer-portal-kong-migrate",
      "developer-portal-kong-finish",
    ]);
    expect(rolled.done).toBe(false);

    const done = planKongRollout(p, "h1", {
      migrateJob: job("h1", "Complete"),
      deployment: deployment("h1", 2),
      finishJob: job("h1", "Complete"),
    });
    expect(done).toMatchObject({
      done: true,
      deleteJobs: [],
      applyDeployment: true,
      progress: "kong:3.9 rolled out",
    });
  });

  it("upgrades in order: replaces the migrate Job while the old Kong keeps running, rolls only after up, finishes only after the rollout", () => {
    const p = portal({ image: "kong:3.10" });
    const old = {
      migrateJob: job("h1", "Complete"),
      finishJob: job("h1", "Complete"),
      deployment: deployment("h1", 2),
    };
    const replace = planKongRollout(p, "h2", old);
    expect(replace).toMatchObject({
      deleteJobs: ["developer-portal-kong-migrate"],
      jobs: [],
      applyDeployment: false,
    });

    const up = planKongRollout(p, "h2", { ...old, migrateJob: undefined });
    expect(up.jobs.map((j) => j.spec?.template.spec?.containers[0]?.image)).toEqual(["kong:3.10"]);
    expect(up.applyDeployment).toBe(false);

    const rolling = planKongRollout(p, "h2", { ...old, migrateJob: job("h2", "Complete") });
    expect(rolling).toMatchObject({ applyDeployment: true, deleteJobs: [] });
    expect(rolling.jobs.map((j) => j.metadata.name)).toEqual(["developer-portal-kong-migrate"]);

    const rolled = { ...old, migrateJob: job("h2", "Complete"), deployment: deployment("h2", 2) };
    expect(planKongRollout(p, "h2", rolled).deleteJobs).toEqual(["developer-portal-kong-finish"]);
    const finishing = planKongRollout(p, "h2", { ...rolled, finishJob: undefined });
    expect(finishing.jobs.at(-1)?.spec?.template.spec?.containers[0]?.args).toEqual([
      "kong",
      "migrations",
      "finish",
    ]);
    expect(finishing.jobs.at(-1)?.metadata.annotations?.[KONG_HASH_ANNOTATION]).toBe("h2");
  });

  it("reports a failed migration with where to look, and keeps the Deployment as it is", () => {
    const failed = planKongRollout(portal(), "h1", { migrateJob: job("h1", "Failed") });
    expect(failed.applyDeployment).toBe(false);
    expect(failed.failed).toMatchObject({ status: "False", reason: "KongMigrationFailed" });
    expect(failed.failed?.message).toContain(
      "kubectl logs -n shop job/developer-portal-kong-migrate --all-containers",
    );
    const finish = planKongRollout(portal(), "h1", {
      migrateJob: job("h1", "Complete"),
      deployment: deployment("h1", 2),
      finishJob: job("h1", "Failed"),
    });
    expect(finish.failed?.message).toContain("kong migrations finish");
  });
});
