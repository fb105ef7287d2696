/**
 * The product's admission webhooks for the operator benchmarks, installed as the chart installs them (its
 * webhook configurations and certificate) and served by a `wicked webhooks` process on this host: with them,
 * a new Subscription arrives with its labels and the operator's finalizer, as it does in a real install.
 * Only for a control plane on this host (the apiserver must reach 127.0.0.1).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CHART,
  helmOk,
  localWebhookValues,
  serviceAccountKubeconfig,
  startWebhookProcess,
  writeWebhookCertificate,
} from "../charts/wicked/testing.ts";
import { freePort } from "../hack/controlplane/controlplane.ts";
import { kubectl, kubectlOk } from "../test/support/kubectl.ts";
import { waitFor } from "./cluster.ts";

/** Installs the webhooks for namespace `ns` and waits until the apiserver calls them; stop() removes them. */
export async function startBenchWebhooks(kubeconfig: string, ns: string): Promise<{ stop(): Promise<void> }> {
  const id = Math.random().toString(36).slice(2, 8);
  const release = `bench-hooks-${id}`;
  const releaseNamespace = `wicked-bench-hooks-${id}`;
  kubectlOk(kubeconfig, ["create", "namespace", releaseNamespace]);
  kubectlOk(kubeconfig, ["label", "namespace", ns, `wicked.dev/bench-hooks=${id}`]);
  const port = await freePort();
  const uninstall = () => {
    kubectl(kubeconfig, ["delete", "namespace", releaseNamespace, "--wait=false"]);
    helmOk(["uninstall", release, "--namespace", releaseNamespace], kubeconfig);
  };
  try {
    helmOk(
      [
        "install",
        release,
        CHART,
        "--namespace",
        releaseNamespace,
        ...localWebhookValues(port, { "wicked.dev/bench-hooks": id }),
      ],
      kubeconfig,
    );
    const certDir = mkdtempSync(join(tmpdir(), "wicked-bench-webhook-tls-"));
    writeWebhookCertificate(kubeconfig, release, releaseNamespace, certDir);
    const identity = serviceAccountKubeconfig(kubeconfig, releaseNamespace, `${release}-wicked-webhooks`);
    const server = await startWebhookProcess(identity, certDir, port, "info");
    try {
      const probe = {
        apiVersion: "wicked.dev/v1alpha1",
        kind: "Subscription",
        metadata: { name: "webhook-probe" },
        spec: { clientRef: { name: "app" }, apiRef: { name: "orders" }, planRef: { name: "basic" } },
      };
      await waitFor(
        "the apiserver calling the webhooks",
        () =>
          kubectl(
            kubeconfig,
            ["create", "--dry-run=server", "-n", ns, "-o", "json", "-f", "-"],
            JSON.stringify(probe),
          ).stdout.includes("wicked.dev/read-model"),
        60_000,
        500,
      );
    } catch (err) {
      await server.stop();
      throw err;
    }
    return {
      async stop() {
        await server.stop();
        uninstall();
      },
    };
  } catch (err) {
    uninstall();
    throw err;
  }
}
