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

/** How the chart tunes the operator's process: its NODE_OPTIONS and MALLOC_ARENA_MAX, as `helm template` renders them. */
export function chartOperatorTuning(): { NODE_OPTIONS: string; MALLOC_ARENA_MAX: string } {
  const rendered = helmOk(["template", "bench", CHART, "--show-only", "templates/operator/deployment.yaml"]);
  const deployment = YAML.parse(rendered) as {
    spec: {
      template: {
        spec: { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> };
      };
    };
  };
  const env = deployment.spec.template.spec.containers.find((c) => c.name === "operator")?.env ?? [];
  const value = (name: string) => {
    const found = env.find((e) => e.name === name)?.value;
    if (found === undefined) throw new Error(`the chart's operator container sets no ${name}`);
    return found;
  };
  return { NODE_OPTIONS: value("NODE_OPTIONS"), MALLOC_ARENA_MAX: value("MALLOC_ARENA_MAX") };
}
