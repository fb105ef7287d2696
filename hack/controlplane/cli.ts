/**
 * `make controlplane-up` / `make controlplane-down`: a control plane that outlives the command, kept in
 * .dev/controlplane. `up` is idempotent and prints the kubeconfig path.
 */
import { resolve } from "node:path";
import { runningControlPlane, startControlPlane, stopDetachedControlPlane } from "./controlplane.ts";

const dir = resolve(process.env.WICKED_CONTROLPLANE_DIR ?? ".dev/controlplane");

async function down(): Promise<void> {
  await stopDetachedControlPlane(dir);
  console.log("Stopped the local control plane");
}

async function up(): Promise<void> {
  const running = runningControlPlane(dir);
  if (running) {
    console.log(running.kubeconfig);
    return;
  }
  await stopDetachedControlPlane(dir);
  const cp = await startControlPlane({ dir, detached: true });
  console.error(
    `Started the local control plane at ${cp.server}; non-admin kubeconfig: ${cp.userKubeconfig}`,
  );
  console.log(cp.kubeconfig);
}

const command = process.argv[2];
if (command === "up") await up();
else if (command === "down") await down();
else {
  console.error("usage: tsx hack/controlplane/cli.ts up|down");
  process.exit(2);
}
