/**
 * The project compiled as the image compiles it (Dockerfile: tsc with rewriteRelativeImportExtensions, plain
 * node at run time, no tsx), into dist/bench inside the checkout so that node_modules resolve. The operator
 * benchmarks run this with the chart's Node options, so their memory and CPU figures are those of the
 * operator as installed, not of tsx's loader on a machine with 24 GiB to spare.
 */
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { CHART, helmOk } from "../charts/wicked/testing.ts";

const ROOT = join(import.meta.dirname, "..");

/** Compiles the project into dist/bench (replacing what was there); returns the directory. */
export function compileAsShipped(): string {
  const out = join(ROOT, "dist", "bench");
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      join(ROOT, "node_modules/typescript/bin/tsc"),
      ...["-p", join(ROOT, "tsconfig.json"), "--noEmit", "false", "--outDir", out],
      ...["--rewriteRelativeImportExtensions", "--sourceMap", "--declaration", "false"],
    ],
    { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] },
  );
  // The files the image copies beside the compiled ones (the portal's assets).
  cpSync(join(ROOT, "portal-ui/assets"), join(out, "portal-ui/assets"), { recursive: true });
  return out;
}

/** How the chart tunes the operator's process. */
export interface OperatorTuning {
  /** NODE_OPTIONS and the glibc allocator's MALLOC_* settings. */
  env: { NODE_OPTIONS: string } & Record<string, string>;
  /** The flags its command gives node before the script (V8's own, which NODE_OPTIONS does not take). */
  nodeFlags: string[];
}

/** How the chart tunes the operator's process, as `helm template` renders it. */
export function chartOperatorTuning(): OperatorTuning {
  const rendered = helmOk(["template", "bench", CHART, "--show-only", "templates/operator/deployment.yaml"]);
  const deployment = YAML.parse(rendered) as {
    spec: {
      template: {
        spec: {
          containers: Array<{
            name: string;
            command?: string[];
            env?: Array<{ name: string; value?: string }>;
          }>;
        };
      };
    };
  };
  const container = deployment.spec.template.spec.containers.find((c) => c.name === "operator");
  const env = Object.fromEntries(
    (container?.env ?? []).flatMap((e) =>
      (e.name === "NODE_OPTIONS" || e.name.startsWith("MALLOC_")) && e.value !== undefined
        ? [[e.name, e.value]]
        : [],
    ),
  );
  if (env.NODE_OPTIONS === undefined) throw new Error("the chart's operator container sets no NODE_OPTIONS");
  const command = container?.command ?? [];
  return { env: { ...env, NODE_OPTIONS: env.NODE_OPTIONS }, nodeFlags: command.slice(1, -1) };
}
