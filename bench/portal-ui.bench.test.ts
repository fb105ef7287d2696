import { describe, expect, it } from "vitest";
import { median, referencedAssets } from "./portal-ui.bench.ts";

describe("page weight", () => {
  it("counts the same-origin stylesheets, icons, scripts and images a page references, once each", () => {
    const html = `<link rel="stylesheet" href="/assets/portal.css?v=1&amp;x=2">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="canonical" href="/apis">
<script src="/assets/portal.js?v=1" defer></script>
<img src="https://cdn.example.com/logo.png"><img src="/assets/favicon.svg"><img src="data:image/png;base64,AA">`;
    expect(referencedAssets(html, "http://127.0.0.1:8080/apis")).toEqual([
      "http://127.0.0.1:8080/assets/portal.css?v=1&x=2",
      "http://127.0.0.1:8080/assets/favicon.svg",
      "http://127.0.0.1:8080/assets/portal.js?v=1",
    ]);
  });

  it("takes the median of odd and even counts", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });
});
