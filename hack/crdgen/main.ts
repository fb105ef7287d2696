/**
 * `make crds`: writes crds/*.yaml from api/v1alpha1. With --check, writes nothing and exits 1 when crds/ is
 * out of date.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GROUP, VERSION } from "../../api/v1alpha1/common.types.ts";
import { type GeneratedFile, generateCrds } from "./crd.ts";

/** Where the generated CRDs live. */
export const CRD_DIR = "crds";

/** Generates the project's CRDs from its API types. */
export function generateProjectCrds(): GeneratedFile[] {
  return generateCrds({ group: GROUP, version: VERSION, sources: ["api/v1alpha1/*.types.ts"] });
}

/** Lists the files of crds/ that differ from what the generator produces now. */
export function staleCrds(files: GeneratedFile[], dir = CRD_DIR): string[] {
  const wanted = new Set(files.map((f) => f.path));
  const onDisk = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".yaml")) : [];
  const stale = files.filter(
    (f) => !existsSync(join(dir, f.path)) || readFileSync(join(dir, f.path), "utf8") !== f.content,
  );
  return [...stale.map((f) => f.path), ...onDisk.filter((f) => !wanted.has(f))];
}

function main(): void {
  const files = generateProjectCrds();
  if (process.argv.includes("--check")) {
    const stale = staleCrds(files);
    if (stale.length > 0) {
      console.error(`crds/ is out of date (${stale.join(", ")}): run \`make crds\` and commit the result`);
      process.exit(1);
    }
    return;
  }
  mkdirSync(CRD_DIR, { recursive: true });
  for (const f of readdirSync(CRD_DIR)) if (!files.some((g) => g.path === f)) rmSync(join(CRD_DIR, f));
  for (const f of files) writeFileSync(join(CRD_DIR, f.path), f.content);
  console.log(`Generated ${files.length} CRDs in ${CRD_DIR}/`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
