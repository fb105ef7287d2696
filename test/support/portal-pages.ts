/**
 * What a user does on the portal's pages, shared by the browser tests (test/e2e/ui) and the end-to-end
 * journey (test/e2e/journey).
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { textOf } from "./browser.ts";
import { eventually } from "./cluster.ts";

/** Where the portal and its auth server are. */
export interface PortalUrls {
  portal: string;
  auth: string;
}

/**
 * Logs in through the auth server's page, starting from the portal's "Log in" link. A portal with OIDC
 * providers first asks how to log in: `chooseLocal` picks email and password there.
 */
export async function logIn(
  page: Page,
  urls: PortalUrls,
  email: string,
  password: string,
  chooseLocal = false,
): Promise<void> {
  await page.goto(urls.portal);
  await page.getByRole("link", { name: "Log in" }).first().click();
  if (chooseLocal) await page.getByRole("link", { name: "Log in with email and password" }).click();
  await page.waitForURL((url) => url.toString().startsWith(urls.auth));
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL((url) => url.toString().startsWith(urls.portal));
  expect(await textOf(page.locator(".alert-success"))).toContain("Welcome");
}

/** Reloads a subscription page until it offers the credentials, then shows them and returns the key. */
export async function showKey(
  page: Page,
  subscriptionUrl: string,
  timeoutMs: number,
  logs: () => string,
): Promise<{ key: string; header: string }> {
  await eventually(
    "the subscription offers its credentials",
    async () => {
      await page.goto(subscriptionUrl);
      return (await page.getByRole("button", { name: "Show credentials" }).count()) > 0;
    },
    timeoutMs,
    logs,
  );
  await page.getByRole("button", { name: "Show credentials" }).click();
  const key = await page.getByLabel("API key").inputValue();
  const header = (await page.locator("#key-header code").first().textContent()) ?? "";
  return { key, header };
}
