/**
 * `wicked dev` (hack/dev.ts) as a child process, as a person runs it: the test waits for its readiness line
 * and reads the URLs from its banner. For tests only.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** The line hack/dev.ts prints once everything serves. */
export const READY_LINE = "wicked dev is running.";

/** A running `wicked dev`. */
export interface DevProcess {
  /** The URLs from its banner. */
  urls: { portal: string; api: string; auth: string; gateway: string };
  /** The banner it printed once running. */
  banner: string;
  /** Everything it printed so far (stdout and stderr, interleaved). */
  output(): string;
  /**
   * Sends `signal` (default SIGTERM) to its process group, as a terminal's Ctrl-C (SIGINT) does, and waits
   * for the exit (SIGKILL after `graceMs`); returns the exit code or signal.
   */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<string>;
}

/** How to start it. */
export interface DevProcessOptions {
  timeoutMs?: number;
  /** What to run; default `node --import tsx hack/dev.ts`. */
  command?: string[];
  /** Start from a clean environment: only PATH, HOME and the like, none of wicked's settings. */
  cleanEnv?: boolean;
}

/** The variables a clean environment keeps: what a person's shell has, nothing that configures wicked. */
const SHELL_VARIABLES = ["PATH", "HOME", "USER", "LANG", "TERM", "SHELL", "TMPDIR", "WICKED_CACHE"];

/** The value after `label:` on a banner line. */
export function bannerValue(output: string, label: string): string | undefined {
  return new RegExp(`^\\s+${label}:\\s+(\\S+)`, "m").exec(output)?.[1];
}

/** Starts `wicked dev` with extra environment variables and waits until it is running. */
export async function startDevProcess(
  env: Record<string, string>,
  options: DevProcessOptions = {},
): Promise<DevProcess> {
  const timeoutMs = options.timeoutMs ?? 420_000;
  const [command, ...args] = options.command ?? [process.execPath, "--import", "tsx", "hack/dev.ts"];
  const base = options.cleanEnv
    ? Object.fromEntries(SHELL_VARIABLES.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])))
    : process.env;
  const child: ChildProcess = spawn(command ?? "", args, {
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stop() reaches make and everything it started, as Ctrl-C does.
    detached: true,
  });
  const chunks: string[] = [];
  let size = 0;
  const collect = (d: Buffer) => {
    chunks.push(d.toString("utf8"));
    size += d.length;
    // Keep the last ~32 MB: enough for any journey, bounded for a runaway log.
    while (size > 32 * 1024 * 1024 && chunks.length > 1) size -= chunks.shift()?.length ?? 0;
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const output = () => chunks.join("");
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? String(code))),
  );
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid ?? 0), signal);
    } catch {
      // Already gone.
    }
  };
  const groupAlive = () => {
    try {
      process.kill(-(child.pid ?? 0), 0);
      return true;
    } catch {
      return false;
    }
  };
  /** Signals the group and waits until every process of it has ended (make may end before its children). */
  const stop = async (graceMs = 60_000, signal: NodeJS.Signals = "SIGTERM"): Promise<string> => {
    const deadline = Date.now() + graceMs;
    if (groupAlive()) signalGroup(signal);
    const how = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r("timeout"), graceMs)),
    ]);
    while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (groupAlive()) signalGroup("SIGKILL");
    return how === "timeout" ? await exited : how;
  };

  const deadline = Date.now() + timeoutMs;
  while (!output().includes(READY_LINE)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `wicked dev exited (${await exited}) before it was running:\n${output().slice(-20_000)}`,
      );
    if (Date.now() > deadline) {
      await stop(5_000);
      throw new Error(`wicked dev was not running within ${timeoutMs / 1000}s:\n${output().slice(-20_000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  // The banner is one write; the ready line is its first line.
  const banner = output().slice(output().indexOf(READY_LINE));
  const url = (label: string) => {
    const value = bannerValue(banner, label);
    if (!value) throw new Error(`The banner of wicked dev has no "${label}:" line:\n${banner}`);
    return value;
  };
  return {
    urls: {
      portal: url("portal"),
      api: url("portal API"),
      auth: url("auth server"),
      gateway: url("gateway"),
    },
    banner,
    output,
    stop,
  };
}
