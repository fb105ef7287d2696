/** The local control plane is a real one: RBAC is enforced, garbage collection and namespace deletion work. */
import { describe, expect, inject, it } from "vitest";
import { createNamespace, kubectl, kubectlOk } from "../../test/support/kubectl.ts";
import { pinnedVersions } from "./controlplane.ts";

const kubeconfig = inject("kubeconfig");
const userKubeconfig = inject("userKubeconfig");

async function eventually(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("local control plane", () => {
  it.runIf(!process.env.KUBECONFIG)("serves the pinned Kubernetes version", () => {
    const version = JSON.parse(kubectlOk(kubeconfig, ["version", "-o", "json"]));
    expect(version.serverVersion.gitVersion).toBe(pinnedVersions().KUBERNETES_VERSION);
  });

  it.runIf(userKubeconfig !== "")(
    "denies the non-admin identity what RBAC does not grant, and allows what it does",
    async () => {
      const ns = createNamespace(kubeconfig, "rbac");
      const denied = kubectl(userKubeconfig, ["get", "secrets", "-n", ns]);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/Forbidden.*cannot list resource "secrets"/);
      expect(
        kubectlOk(userKubeconfig, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]),
      ).not.toBe("");

      kubectlOk(kubeconfig, [
        "create",
        "role",
        "read-secrets",
        "-n",
        ns,
        "--verb=list",
        "--resource=secrets",
      ]);
      const user = kubectlOk(userKubeconfig, [
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
      ]);
      kubectlOk(kubeconfig, [
        "create",
        "rolebinding",
        "read-secrets",
        "-n",
        ns,
        "--role=read-secrets",
        `--user=${user}`,
      ]);
      await eventually(() => kubectl(userKubeconfig, ["get", "secrets", "-n", ns]).code === 0);
      expect(kubectl(userKubeconfig, ["delete", "secret", "anything", "-n", ns]).stderr).toMatch(/Forbidden/);
    },
  );

  it("garbage-collects owned objects", async () => {
    const ns = createNamespace(kubeconfig, "gc");
    kubectlOk(kubeconfig, ["create", "configmap", "owner", "-n", ns]);
    const uid = kubectlOk(kubeconfig, [
      "get",
      "configmap",
      "owner",
      "-n",
      ns,
      "-o",
      "jsonpath={.metadata.uid}",
    ]);
    const child = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "child",
        namespace: ns,
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid }],
      },
    };
    kubectlOk(kubeconfig, ["create", "-f", "-"], JSON.stringify(child));
    kubectlOk(kubeconfig, ["delete", "configmap", "owner", "-n", ns]);
    await eventually(() => kubectl(kubeconfig, ["get", "configmap", "child", "-n", ns]).code !== 0);
  });

  it("finishes deleting namespaces", async () => {
    const ns = createNamespace(kubeconfig, "nsdel");
    kubectlOk(kubeconfig, ["create", "configmap", "x", "-n", ns]);
    kubectlOk(kubeconfig, ["delete", "namespace", ns, "--wait=false"]);
    await eventually(() => kubectl(kubeconfig, ["get", "namespace", ns]).code !== 0, 60_000);
  });
});
