/**
 * A wicked process a test starts as it runs in a pod (`node --import tsx …`, or compiled as the image runs
 * it), with its output captured for
 * failure messages, started once `ready()` says so, and stopped with SIGTERM or killed with SIGKILL.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** A running child process. */
export interface TestProcess {
  pid: number;
  /** Everything it wrote to stdout and stderr so far. */
  logs(): string;
  /** Sends SIGKILL: no cleanup. */
  kill(): Promise<void>;
  /** Sends SIGTERM and waits for it to exit. */
  stop(): Promise<void>;
}

/** How to start a process. */
export interface TestProcessOptions {
  /** What it is, for error messages ("the operator"). */
  what: string;
  /** Arguments after the node options. */
  args: string[];
  /** Node's options; `--import tsx` (run the TypeScript sources) by default. */
  nodeOptions?: string[];
  /** Its environment, on top of this process's. */
  env: Record<string, string | undefined>;
  /** Polled every 200 ms with the output so far until it resolves true. */
  ready(output: string): boolean | Promise<boolean>;
  timeoutMs?: number;
}

/** Starts the process and waits until it is ready; throws with its output when it exits or times out first. */
export async function startTestProcess(opts: TestProcessOptions): Promise<TestProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...(opts.nodeOptions ?? ["--import", "tsx"]), ...opts.args],
    {
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const append = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  while (!(await opts.ready(output))) {
    if (!running())
      throw new Error(`${opts.what} exited with ${child.exitCode ?? child.signalCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${opts.what} did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const signal = async (name: NodeJS.Signals) => {
    if (running()) child.kill(name);
    await exited;
  };
  return {
    pid: child.pid ?? 0,
    logs: () => output,
    kill: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM"),
  };
}

/** Whether a health endpoint answers 2xx. */
export function healthy(url: string): Promise<boolean> {
  return fetch(url).then(
    (r) => r.ok,
    () => false,
  );
}
