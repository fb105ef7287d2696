import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import type { ApiPortal } from "../../api/v1alpha1/index.ts";
import { CONFIG_HASH_ANNOTATION, renderComponents } from "./components.ts";

function samplePortal(): ApiPortal {
  const docs = YAML.parseAllDocuments(readFileSync("config/samples/apiportal.yaml", "utf8")).map((d) =>
    d.toJS(),
  );
  const portal = docs.find((d) => d.kind === "ApiPortal") as ApiPortal;
  portal.metadata = { ...portal.metadata, namespace: "shop", uid: "uid-1", generation: 1 };
  return portal;
}

const options = {
  defaultImage: "ghcr.io/wicked-dev/wicked:0.1.0",
  secrets: { session: { name: "p-session", hash: "s1" }, signing: { name: "p-signing-keys", hash: "k1" } },
  clusterRoles: { "portal-api": "wicked-portal-api", "auth-server": "wicked-auth-server" },
};

const hashes = (portal: ApiPortal, opts = options) =>
  Object.fromEntries(
    renderComponents(portal, opts).map((c) => [
      c.component,
      c.deployment.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION],
    ]),
  );

describe("renderComponents", () => {
  it("renders a hardened Deployment, a Service and a ConfigMap per component, owned by the portal", () => {
    const rendered = renderComponents(samplePortal(), options);
    expect(rendered.map((c) => c.component)).toEqual(["portal-ui", "portal-api", "auth-server"]);
    for (const c of rendered) {
      for (const obj of [c.deployment, c.service, c.configMap]) {
        expect(obj.metadata?.ownerReferences).toEqual([
          {
            apiVersion: "wicked.dev/v1alpha1",
            kind: "ApiPortal",
            name: "developer-portal",
            uid: "uid-1",
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      }
      const pod = c.deployment.spec?.template.spec;
      const container = pod?.containers[0];
      expect(pod?.securityContext?.runAsNonRoot).toBe(true);
      expect(container?.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      expect(container?.resources?.requests).toBeDefined();
      expect(container?.resources?.limits).toBeDefined();
      expect(container?.readinessProbe?.httpGet?.path).toBe("/readyz");
      expect(container?.livenessProbe?.httpGet?.path).toBe("/healthz");
    }
    const api = rendered.find((c) => c.component === "portal-api");
    expect(api?.deployment.spec?.replicas).toBe(2);
    expect(api?.deployment.spec?.template.spec?.containers[0]?.resources?.limits).toEqual({
      memory: "256Mi",
    });
  });

  it("gives the portal API and the auth server ServiceAccounts bound to their ClusterRoles, and the UI no token", () => {
    const rendered = renderComponents(samplePortal(), options);
    const pod = (name: string) => rendered.find((c) => c.component === name)?.deployment.spec?.template.spec;
    expect(pod("portal-ui")).toMatchObject({ automountServiceAccountToken: false });
    expect(pod("portal-ui")?.serviceAccountName).toBeUndefined();
    for (const name of ["portal-api", "auth-server"] as const) {
      const c = rendered.find((r) => r.component === name);
      expect(pod(name)).toMatchObject({
        serviceAccountName: `developer-portal-${name}`,
        automountServiceAccountToken: true,
      });
      expect(c?.serviceAccount?.metadata?.name).toBe(`developer-portal-${name}`);
      expect(c?.roleBinding).toMatchObject({
        metadata: { name: `developer-portal-${name}`, namespace: "shop" },
        roleRef: { kind: "ClusterRole", name: `wicked-${name}` },
        subjects: [{ kind: "ServiceAccount", name: `developer-portal-${name}`, namespace: "shop" }],
      });
    }
    expect(rendered.find((c) => c.component === "portal-ui")?.roleBinding).toBeUndefined();
  });

  it("mounts the signing keys only into the auth server", () => {
    const mounts = Object.fromEntries(
      renderComponents(samplePortal(), options).map((c) => [
        c.component,
        c.deployment.spec?.template.spec?.volumes?.map((v) => v.secret?.secretName).filter(Boolean),
      ]),
    );
    expect(mounts).toEqual({
      "portal-ui": ["p-session"],
      "portal-api": ["p-session"],
      "auth-server": ["p-session", "p-signing-keys"],
    });
  });

  it("changes the config hash of exactly the components a spec change concerns", () => {
    const before = hashes(samplePortal());
    const branded = samplePortal();
    branded.spec.branding = { ...branded.spec.branding, primaryColor: "#000000" };
    expect(
      Object.entries(hashes(branded))
        .filter(([k, v]) => before[k] !== v)
        .map(([k]) => k),
    ).toEqual(["portal-ui"]);

    const scaled = samplePortal();
    scaled.spec.components = { ...scaled.spec.components, portalApi: { replicas: 5 } };
    expect(hashes(scaled)).toEqual(before);

    const passwords = samplePortal();
    passwords.spec.login = { ...passwords.spec.login, local: { passwordMinLength: 20 } };
    expect(
      Object.entries(hashes(passwords))
        .filter(([k, v]) => before[k] !== v)
        .map(([k]) => k),
    ).toEqual(["portal-api", "auth-server"]);

    const rotated = hashes(samplePortal(), {
      ...options,
      secrets: { ...options.secrets, signing: { name: "p-signing-keys", hash: "k2" } },
    });
    expect(
      Object.entries(rotated)
        .filter(([k, v]) => before[k] !== v)
        .map(([k]) => k),
    ).toEqual(["auth-server"]);
  });
});
