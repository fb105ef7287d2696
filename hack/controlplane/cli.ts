/**
 * `make controlplane-up` / `make controlplane-down`: a control plane that outlives the command, kept in
 * .dev/controlplane. `up` is idempotent and prints the kubeconfig path.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { startControlPlane } from "./controlplane.ts";

const dir = resolve(process.env.WICKED_CONTROLPLANE_DIR ?? ".dev/controlplane");
const stateFile = `${dir}/state.json`;

interface State {
  pids: number[];
  kubeconfig: string;
  userKubeconfig: string;
  server: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState(): State | undefined {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(readFileSync(stateFile, "utf8")) as State;
}

async function down(): Promise<void> {
  const state = readState();
  if (state) {
    for (const pid of [...state.pids].reverse()) {
      if (!alive(pid)) continue;
      process.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  }
  rmSync(dir, { recursive: true, force: true });
  console.log("Stopped the local control plane");
}

async function up(): Promise<void> {
  const state = readState();
  if (state?.pids.every(alive)) {
    console.log(state.kubeconfig);
    return;
  }
  if (state) await down();
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
