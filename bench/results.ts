/** Writing the benchmarks' results to bench/results/ (git-ignored), and telling a run from an import. */
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type BenchResult, formatMarkdown } from "./table.ts";

/** The directory the results go to. */
export const RESULTS_DIR = "bench/results";

/** Writes bench/results/<name>.json (the figures and the settings) and bench/results/<name>.md. */
export function writeResults(
  name: string,
  results: BenchResult[],
  heading: string,
  settings: Record<string, unknown> = {},
): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = { date: new Date().toISOString(), settings, results };
  writeFileSync(`${RESULTS_DIR}/${name}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${RESULTS_DIR}/${name}.md`, formatMarkdown(results, heading));
}

/** Whether the module at `url` is the program being run (`tsx bench/x.ts`), not an import. */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
