/**
 * portal-ui: time to first byte and page weight of the main pages, anonymous (home, catalog, an Api page)
 * and logged in (my applications). TTFB is the median over sequential plain-fetch requests
 * (until the response headers arrive, on a kept-alive connection); page weight is the bytes of the HTML plus
 * the same-origin assets it references (stylesheets, icons, scripts, images), uncompressed. Measures only.
 */
import type { BenchPortal } from "./portal-fixture.ts";
import type { BenchResult, Figure } from "./table.ts";

/** The median of the numbers; 0 for none. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The same-origin assets a page references (stylesheets, icons, scripts, images) as absolute URLs. */
export function referencedAssets(html: string, pageUrl: string): string[] {
  const origin = new URL(pageUrl).origin;
  const found = new Set<string>();
  for (const tag of html.matchAll(/<(link|script|img)\b[^>]*>/gi)) {
    const text = tag[0];
    const name = (tag[1] ?? "").toLowerCase();
    if (name === "link") {
      const rel = /\brel="([^"]*)"/i.exec(text)?.[1]?.toLowerCase() ?? "";
      if (!/\b(stylesheet|icon|preload|modulepreload)\b/.test(rel)) continue;
    }
    const ref = /\b(?:href|src)="([^"]+)"/i.exec(text)?.[1];
    if (!ref || ref.startsWith("data:")) continue;
    const url = new URL(ref.replaceAll("&amp;", "&"), pageUrl);
    if (url.origin === origin) found.add(url.href);
  }
  return [...found];
}

/** One page: its median TTFB, and the bytes of its HTML and of its assets. */
async function measurePage(
  url: string,
  headers: Record<string, string>,
  runs: number,
): Promise<{ ttfbMs: number; htmlBytes: number; assetBytes: number; assets: number }> {
  const fetchPage = async () => {
    const started = performance.now();
    const res = await fetch(url, { headers, redirect: "manual" });
    const ttfb = performance.now() - started;
    const body = await res.text();
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${body.slice(0, 300)}`);
    return { ttfb, body };
  };
  const first = await fetchPage();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push((await fetchPage()).ttfb);
  const assets = referencedAssets(first.body, url);
  let assetBytes = 0;
  for (const asset of assets) {
    const res = await fetch(asset, { headers });
    if (res.status !== 200) throw new Error(`GET ${asset} (referenced by ${url}) answered ${res.status}`);
    assetBytes += (await res.arrayBuffer()).byteLength;
  }
  return {
    ttfbMs: median(samples),
    htmlBytes: Buffer.byteLength(first.body),
    assetBytes,
    assets: assets.length,
  };
}

/** Runs the portal-ui benchmark against a started portal. */
export async function runPortalUiBench(portal: BenchPortal, opts: { runs: number }): Promise<BenchResult> {
  const pages: Array<{ name: string; path: string; loggedIn: boolean }> = [
    { name: "home /", path: "/", loggedIn: false },
    { name: "catalog /apis", path: "/apis", loggedIn: false },
    { name: `Api page /apis/${portal.sampleApi}`, path: `/apis/${portal.sampleApi}`, loggedIn: false },
    { name: "my applications /applications", path: "/applications", loggedIn: true },
  ];
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const page of pages) {
    const headers: Record<string, string> = page.loggedIn ? { cookie: portal.sessionCookie } : {};
    const m = await measurePage(`${portal.urls.portal}${page.path}`, headers, opts.runs);
    figures.push(
      { measure: `${page.name} TTFB (median)`, unit: "ms", value: m.ttfbMs },
      { measure: `${page.name} weight`, unit: "KiB", value: (m.htmlBytes + m.assetBytes) / 1024 },
    );
    notes.push(
      `${page.name}: HTML ${m.htmlBytes} B + ${m.assets} assets ${m.assetBytes} B${page.loggedIn ? " (logged in)" : ""}`,
    );
  }
  notes.unshift(
    `median of ${opts.runs} sequential requests after one warm-up, the UI calling the portal API over loopback; logged-in pages use a session cookie signed with the portal's cookie keys holding an access token signed with its signing key (as the login would issue), no login flow.`,
  );
  return { bench: "portal-ui", figures, notes };
}
