import { describe, expect, it } from "vitest";
import { type BenchResult, formatMarkdown, formatNumber, formatRatio, formatTable } from "./table.ts";

const results: BenchResult[] = [
  {
    bench: "portal-api",
    figures: [{ measure: "catalog requests/s", unit: "req/s", value: 1500, baseline: 3000 }],
    notes: ["10 s per run"],
  },
  {
    bench: "reconcile",
    figures: [{ measure: "Kong writes per Subscription", unit: "writes", value: 4 }],
    notes: [],
  },
];

describe("bench table", () => {
  it("shows numbers with a precision that suits their size", () => {
    expect(formatNumber(1234.567)).toBe("1235");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(1.2345)).toBe("1.23");
    expect(formatNumber(7)).toBe("7");
  });

  it("gives the ratio wicked / baseline, and says when there is no baseline", () => {
    expect(formatRatio({ measure: "x", unit: "ms", value: 3, baseline: 2 })).toBe("1.50×");
    expect(formatRatio({ measure: "x", unit: "ms", value: 3 })).toBe("n/a");
    expect(formatRatio({ measure: "x", unit: "ms", value: 3, baseline: 0 })).toBe("-");
  });

  it("prints one aligned row per figure with its ratio, and the notes", () => {
    const lines = formatTable(results).split("\n");
    const row = lines.find((l) => l.startsWith("portal-api"));
    expect(row).toMatch(/^portal-api\s+catalog requests\/s\s+1500\s+3000\s+0\.50×\s+req\/s$/);
    expect(lines.find((l) => l.startsWith("reconcile"))).toMatch(/\s4\s+n\/a\s+writes$/);
    expect(lines.some((l) => l.includes("portal-api: 10 s per run"))).toBe(true);
    const header = lines[0] ?? "";
    expect(row?.indexOf("1500")).toBeGreaterThan(header.indexOf("wicked") - 1);
  });

  it("writes the same rows as a markdown table", () => {
    const md = formatMarkdown(results, "Benchmarks");
    expect(md).toContain("| portal-api | catalog requests/s | 1500 | 3000 | 0.50× | req/s |");
    expect(md).toContain("| reconcile | Kong writes per Subscription | 4 |  | n/a | writes |");
    expect(md).toContain("- portal-api: 10 s per run");
  });
});
