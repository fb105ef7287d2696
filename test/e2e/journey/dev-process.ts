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
  /** Everything it printed so far (stdout and stderr, interleaved). */
  output(): string;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`); returns the exit code or signal. */
  stop(graceMs?: number): Promise<string>;
}

/** The value after `label:` on a banner line. */
export function bannerValue(output: string, label: string): string | undefined {
  return new RegExp(`^\\s+${label}:\\s+(\\S+)`, "m").exec(output)?.[1];
}

/** Starts `node --import tsx hack/dev.ts` with extra environment variables and waits until it is running. */
export async function startDevProcess(env: Record<string, string>, timeoutMs = 420_000): Promise<DevProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "hack/dev.ts"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
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
  const stop = async (graceMs = 60_000): Promise<string> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    }
    return exited;
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
    output,
    stop,
  };
}
