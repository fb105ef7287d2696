/**
 * What a user does on the portal's pages, shared by the browser tests (test/e2e/ui) and the end-to-end
 * journey (test/e2e/journey).
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { textOf, visible } from "./browser.ts";
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

/** Signs up on the portal's page and waits for "Check your inbox". */
export async function signUp(
  page: Page,
  portalUrl: string,
  who: { name: string; email: string },
  password: string,
): Promise<void> {
  await page.goto(portalUrl);
  await page.getByRole("link", { name: "Sign up" }).first().click();
  await page.getByLabel("Your name").fill(who.name);
  await page.getByLabel("Email address").fill(who.email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await visible(page.getByText("Check your inbox"));
}

/** Follows a mailed verification link and confirms the address. */
export async function confirmEmail(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  expect(await textOf(page.getByRole("heading", { level: 1 }))).toBe("Email address confirmed");
}

/** Registers an application and waits for its page. */
export async function registerApplication(
  page: Page,
  portalUrl: string,
  name: string,
  description: string,
): Promise<void> {
  await page.goto(`${portalUrl}/applications/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Description").fill(description);
  await page.getByRole("button", { name: "Register application" }).click();
  expect(await textOf(page.getByRole("heading", { level: 1 }))).toBe(name);
}

/** Subscribes an application to an Api's plan on the Api's page; returns the subscription's URL. */
export async function subscribe(
  page: Page,
  portalUrl: string,
  api: string,
  application: string,
  plan: string,
): Promise<string> {
  await page.goto(`${portalUrl}/apis/${api}`);
  await page.getByLabel("Application", { exact: true }).selectOption({ label: application });
  await page.locator(`label[for=plan-${plan}]`).click();
  await page.getByRole("button", { name: "Subscribe" }).click();
  await page.waitForURL(/\/subscriptions\//);
  return page.url();
}
