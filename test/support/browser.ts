/**
 * Headless Debian Chromium through playwright-core for the browser tests: launching it, pages that record
 * every dialog and console error (so a test can prove no injected script ran), an axe-core accessibility
 * scan, and screenshots at desktop and phone sizes into test-results/screenshots/. For tests only.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** Where screenshots go (git-ignored). */
export const SCREENSHOT_DIR = join("test-results", "screenshots");

/** The desktop and phone viewports of the screenshots. */
export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
} as const;

/**
 * Starts headless Chromium; throws with the install command when it is missing. `hosts` maps host names to
 * addresses (Chromium's host resolver rules), for URLs whose names only a cluster's DNS knows.
 */
export async function launchBrowser(hosts: Record<string, string> = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; install it with \`apt-get install -y chromium\`.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
      ...(Object.keys(hosts).length > 0
        ? [
            `--host-resolver-rules=${Object.entries(hosts)
              .map(([name, address]) => `MAP ${name} ${address}`)
              .join(", ")}`,
          ]
        : []),
    ],
  });
}

/** A page with what it showed besides its content. */
export interface WatchedPage {
  page: Page;
  /** Every dialog (alert, confirm, prompt) the page opened, as "type: message". */
  dialogs: string[];
  /** Console errors, including Content-Security-Policy violations. */
  consoleErrors: string[];
  /** Uncaught exceptions of page scripts. */
  pageErrors: string[];
}

/**
 * Opens a page that records dialogs and errors. Confirmations (the portal's "are you sure?") are accepted;
 * alerts and prompts, which the portal never opens, are dismissed and recorded as evidence of a script that
 * should not have run.
 */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const watched: WatchedPage = { page, dialogs: [], consoleErrors: [], pageErrors: [] };
  page.on("dialog", (dialog) => {
    watched.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    if (dialog.type() === "confirm") void dialog.accept();
    else void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.type() === "error") watched.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => watched.pageErrors.push(error.message));
  return watched;
}

/** One axe-core finding. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core on the page (WCAG 2.x A and AA rules) and returns the violations. The script is evaluated
 * through the DevTools protocol, which the page's Content-Security-Policy does not apply to.
 */
export async function axeScan(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(join("node_modules", "axe-core", "axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    type AxeResult = {
      violations: Array<{
        id: string;
        impact: string | null;
        help: string;
        nodes: Array<{ target: unknown[] }>;
      }>;
    };
    const scope = globalThis as unknown as {
      axe: { run(ctx: unknown, opts: object): Promise<AxeResult> };
      document: unknown;
    };
    const result = await scope.axe.run(scope.document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => JSON.stringify(n.target)),
    }));
  });
  return violations;
}

/** The serious and critical violations, as readable lines (empty when there are none). */
export function seriousViolations(violations: AxeViolation[]): string[] {
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 5).join(", ")}`);
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until the first element of a locator is visible (fails after the page's default timeout). */
export async function visible(locator: Locator): Promise<void> {
  await locator.first().waitFor({ state: "visible" });
}

/** The trimmed text of the first element of a locator, once it is visible. */
export async function textOf(locator: Locator): Promise<string> {
  await visible(locator);
  return ((await locator.first().textContent()) ?? "").trim();
}
