/**
 * Kills and restarts the kube-apiserver of a control plane the test started itself (startControlPlane), with
 * exactly the command line it was launched with (read from /proc/<pid>/cmdline): same port, certificates,
 * token file and etcd, so kubeconfigs keep working. etcd and the controller-manager keep running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { ControlPlane } from "../../hack/controlplane/controlplane.ts";

/** The apiserver of a control plane, restartable. */
export interface RestartableApiserver {
  /** SIGKILLs the running apiserver (no graceful shutdown) and waits until the process is gone. */
  kill(): Promise<void>;
  /** Starts it again with the same command line and waits until /readyz answers 200. */
  start(): Promise<void>;
  /** Stops an apiserver start() launched (the control plane's stop() only knows the original one). */
  dispose(): Promise<void>;
}

/** The arguments of a process from the NUL-separated contents of /proc/<pid>/cmdline. Pure. */
export function parseCmdline(raw: string): string[] {
  return raw.split("\0").filter((part) => part.length > 0);
}

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  // A zombie waits for its parent to reap it; it no longer holds its port.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return !/^\d+ \(.*\) Z/.test(stat);
}

async function readyz(server: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${server}/readyz`,
      { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** The apiserver of `cp` (the second process startControlPlane starts), ready to be killed and restarted. */
export function restartableApiserver(cp: ControlPlane): RestartableApiserver {
  const originalPid = cp.pids[1];
  if (originalPid === undefined || !alive(originalPid))
    throw new Error("The control plane's apiserver is not running");
  const commandLine = parseCmdline(readFileSync(`/proc/${originalPid}/cmdline`, "utf8"));
  if (!commandLine[0]?.endsWith("kube-apiserver"))
    throw new Error(`Process ${originalPid} is ${commandLine[0]}, not kube-apiserver`);
  const kubeconfig = JSON.parse(readFileSync(cp.kubeconfig, "utf8")) as {
    users: Array<{ user: { token: string } }>;
  };
  const token = kubeconfig.users[0]?.user.token ?? "";
  let pid = originalPid;
  let restarted: ChildProcess | undefined;

  return {
    async kill() {
      if (!alive(pid)) return;
      process.kill(pid, "SIGKILL");
      const deadline = Date.now() + 30_000;
      while (alive(pid)) {
        if (Date.now() > deadline) throw new Error(`kube-apiserver (pid ${pid}) did not die within 30 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async start() {
      const [command, ...args] = commandLine;
      const log = openSync(join(cp.dir, "kube-apiserver.log"), "a");
      const child = spawn(command as string, args, { stdio: ["ignore", log, log] });
      closeSync(log);
      restarted = child;
      pid = child.pid ?? -1;
      const deadline = Date.now() + 120_000;
      while (!(await readyz(cp.server, token))) {
        if (child.exitCode !== null)
          throw new Error(
            `kube-apiserver exited with ${child.exitCode} on restart; see ${cp.dir}/kube-apiserver.log`,
          );
        if (Date.now() > deadline)
          throw new Error("kube-apiserver was not ready within 120 s of its restart");
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async dispose() {
      const child = restarted;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
