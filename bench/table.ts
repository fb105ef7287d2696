/**
 * The benchmarks' results and how they are shown: every bench returns figures (a value, and a baseline where
 * one is measured beside it); this module turns them into the terminal table and the markdown report. Pure.
 */

/** One measured figure. */
export interface Figure {
  /** What was measured, e.g. "catalog requests/s". */
  measure: string;
  /** Unit of value and baseline, e.g. "req/s", "ms", "MiB". */
  unit: string;
  /** wicked's value. */
  value: number;
  /** The same figure of the bare baseline, when one is measured. */
  baseline?: number;
}

/** What one benchmark measured, with notes on how (shown under the table). */
export interface BenchResult {
  bench: string;
  figures: Figure[];
  notes: string[];
}

/** A number as shown: integers as they are, others with precision that suits their size. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** value / baseline as "0.42×"; "n/a" without a baseline, "-" when the baseline is 0. */
export function formatRatio(figure: Figure): string {
  if (figure.baseline === undefined) return "n/a";
  if (figure.baseline === 0) return "-";
  return `${(figure.value / figure.baseline).toFixed(2)}×`;
}

const HEADER = ["bench", "measure", "wicked", "baseline", "ratio", "unit"];

/** The rows of the table, one per figure, as text cells. */
export function tableRows(results: BenchResult[]): string[][] {
  return results.flatMap((r) =>
    r.figures.map((f) => [
      r.bench,
      f.measure,
      formatNumber(f.value),
      f.baseline === undefined ? "" : formatNumber(f.baseline),
      formatRatio(f),
      f.unit,
    ]),
  );
}

/** The table for a terminal: aligned columns, numbers right-aligned, notes below. */
export function formatTable(results: BenchResult[]): string {
  const rows = [HEADER, ...tableRows(results)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const numeric = new Set([2, 3, 4]);
  const line = (row: string[]) =>
    row
      .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const [head, ...body] = rows;
  return [line(head ?? HEADER), rule, ...body.map(line), "", "ratio = wicked / baseline", ...notes(results)]
    .join("\n")
    .concat("\n");
}

/** The markdown report: the same table and the notes of every bench. */
export function formatMarkdown(results: BenchResult[], heading: string): string {
  const rows = tableRows(results).map((row) => `| ${row.join(" | ")} |`);
  return [
    `# ${heading}`,
    "",
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map((_, i) => (i >= 2 && i <= 4 ? "---:" : "---")).join("|")}|`,
    ...rows,
    "",
    "ratio = wicked / baseline",
    "",
    ...notes(results).map((n) => `- ${n.trim()}`),
    "",
  ].join("\n");
}

function notes(results: BenchResult[]): string[] {
  return results.flatMap((r) => r.notes.map((n) => `  ${r.bench}: ${n}`));
}
