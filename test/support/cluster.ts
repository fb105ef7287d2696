/** Reading the cluster in tests: objects as JSON, their conditions, and waiting for a state. */
import { kubectl, kubectlOk } from "./kubectl.ts";

// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON output, read field by field in assertions
export type Json = Record<string, any>;

/** An object as JSON, undefined when it does not exist. */
export function getObject(
  kubeconfig: string,
  kind: string,
  name: string,
  namespace: string,
): Json | undefined {
  const r = kubectl(kubeconfig, ["get", kind, name, "-n", namespace, "-o", "json"]);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}

/** The objects of a kind in a namespace. */
export function listObjects(kubeconfig: string, kind: string, namespace: string, selector?: string): Json[] {
  return JSON.parse(
    kubectlOk(kubeconfig, [
      "get",
      kind,
      "-n",
      namespace,
      "-o",
      "json",
      ...(selector ? ["-l", selector] : []),
    ]),
  ).items;
}

/** A condition of an object's status. */
export function conditionOf(obj: Json | undefined, type: string): Json | undefined {
  return obj?.status?.conditions?.find((c: Json) => c.type === type);
}

/** Applies a manifest given as an object. */
export function apply(kubeconfig: string, namespace: string, manifest: Json): void {
  kubectlOk(kubeconfig, ["apply", "-n", namespace, "-f", "-"], JSON.stringify(manifest));
}

/**
 * Polls until `probe` returns a truthy value and returns it; fails after the timeout with the last value and
 * whatever `context()` adds (logs of the processes under test).
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
  context: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined | false;
  let error: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      error = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not happen within ${timeoutMs / 1000}s; last: ${JSON.stringify(last)} ${error instanceof Error ? error.message : ""}\n${context()}`,
      );
    await new Promise((r) => setTimeout(r, 300));
  }
}
