/**
 * The Gateway API's CRDs (standard channel) at the version hack/controlplane/versions.env pins, fetched
 * through the Go module proxy and cached by version (hack/controlplane/gateway-api.sh), for tests that
 * need the apiserver to validate HTTPRoutes, or to not serve them at all.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import YAML from "yaml";
import { kubectl, kubectlOk } from "./kubectl.ts";

let cached: string | undefined;

/** The directory holding the pinned Gateway API CRD manifests (fetched once into the cache). */
export function gatewayApiCrdDir(): string {
  cached ??= execFileSync(resolve("hack/controlplane/gateway-api.sh"), {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return cached;
}

function crdNames(): string[] {
  const dir = gatewayApiCrdDir();
  return readdirSync(dir).map(
    (f) => (YAML.parse(readFileSync(join(dir, f), "utf8")) as { metadata: { name: string } }).metadata.name,
  );
}

/** Installs the Gateway API CRDs and waits until the apiserver serves them. */
export function installGatewayApiCrds(kubeconfig: string): void {
  kubectlOk(kubeconfig, ["apply", "--server-side", "--force-conflicts", "-f", gatewayApiCrdDir()]);
  kubectlOk(kubeconfig, [
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    ...crdNames().map((n) => `crd/${n}`),
  ]);
}

/** Removes the Gateway API CRDs (and so every Gateway API object) and waits until they are gone. */
export function removeGatewayApiCrds(kubeconfig: string): void {
  const names = crdNames().map((n) => `crd/${n}`);
  kubectlOk(kubeconfig, ["delete", "--ignore-not-found", "--timeout=120s", ...names]);
  for (let i = 0; i < 100; i++) {
    if (kubectl(kubeconfig, ["get", "--raw", "/apis/gateway.networking.k8s.io/v1"]).code !== 0) return;
    execFileSync("sleep", ["0.3"]);
  }
  throw new Error("The apiserver still serves gateway.networking.k8s.io/v1 after its CRDs were deleted");
}
