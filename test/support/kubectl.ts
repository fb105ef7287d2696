/** Runs the pinned kubectl against the cluster under test. */
import { execFile, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { binaries } from "../../hack/controlplane/controlplane.ts";

/** What kubectl printed and how it exited. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

let binDir: string | undefined;

/** Runs kubectl with the given kubeconfig; `input` is passed on stdin (for `apply -f -`). */
export function kubectl(kubeconfig: string, args: string[], input?: string): KubectlResult {
  binDir ??= binaries();
  const result = spawnSync(join(binDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], {
    input,
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Like kubectl, but throws with kubectl's message when it fails. */
export function kubectlOk(kubeconfig: string, args: string[], input?: string): string {
  const result = kubectl(kubeconfig, args, input);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(" ")} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** Installs the generated CRDs and waits until the apiserver serves them. */
export function installCrds(kubeconfig: string): void {
  kubectlOk(kubeconfig, ["apply", "--server-side", "--force-conflicts", "-f", "crds/"]);
  const names = readdirSync("crds").map(
    (f) =>
      (YAML.parse(readFileSync(join("crds", f), "utf8")) as { metadata: { name: string } }).metadata.name,
  );
  kubectlOk(kubeconfig, [
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    ...names.map((n) => `crd/${n}`),
  ]);
}

/** Creates a namespace with a unique name for one test file and returns it. */
export function createNamespace(kubeconfig: string, prefix: string): string {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  kubectlOk(kubeconfig, ["create", "namespace", name]);
  return name;
}

/**
 * Runs a command without blocking the event loop: tests that host the Kong test double or the sinks in
 * their own process must keep answering while kubectl or helm runs.
 */
export function runAsync(
  bin: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      {
        encoding: "utf8",
        timeout: options.timeoutMs ?? 600_000,
        maxBuffer: 64 * 1024 * 1024,
        env: options.env ?? process.env,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs the pinned kubectl without blocking the event loop. */
export function kubectlAsync(
  kubeconfig: string,
  args: string[],
  timeoutMs = 600_000,
  input?: string,
): Promise<KubectlResult> {
  binDir ??= binaries();
  return runAsync(join(binDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], { timeoutMs, input });
}

/** Like kubectlAsync, but throws with kubectl's message when it fails. */
export async function kubectlAsyncOk(
  kubeconfig: string,
  args: string[],
  timeoutMs?: number,
  input?: string,
): Promise<string> {
  const result = await kubectlAsync(kubeconfig, args, timeoutMs, input);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${result.stderr || result.stdout}`);
  return result.stdout;
}
