/**
 * Writes docs/reference.md from crds/*.yaml. With --check, writes nothing and exits 1 when the file is stale.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { type Crd, renderReference } from "./reference.ts";

/** Where the reference is written. */
export const REFERENCE_FILE = "docs/reference.md";

/** The reference as generated from the CRDs in `dir`. */
export function projectReference(dir = "crds"): string {
  const crds = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => YAML.parse(readFileSync(join(dir, f), "utf8")) as Crd);
  return renderReference(crds);
}

function main(): void {
  const wanted = projectReference();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(REFERENCE_FILE, "utf8");
    } catch {
      // A missing file is as stale as an outdated one.
    }
    if (current !== wanted) {
      console.error(
        `${REFERENCE_FILE} is out of date: run \`npx tsx hack/reference/main.ts\` and commit the result`,
      );
      process.exit(1);
    }
    return;
  }
  writeFileSync(REFERENCE_FILE, wanted);
  console.log(`Wrote ${REFERENCE_FILE}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
