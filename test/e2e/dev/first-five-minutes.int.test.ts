/**
 * The README's "first five minutes", as a person does them: `make dev` with no environment variables, then
 * in Chromium: sign up, open the mail in MailDev's inbox, confirm, log in, register an application,
 * subscribe, copy the key, call the printed gateway URL with it (200) and without (401). Then what a
 * platform engineer checks: every sample Ready within a minute, no controller holding work longer than the
 * reconcile limit, no error in the log; Ctrl-C stops within 10 s and a second `make dev` keeps the account
 * and the application.
 *
 * It uses the checkout's own .dev/ as a person would; what it started there (the control plane, the
 * database, the inbox) it removes again, what was there before it leaves.
 */
import { existsSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopDetachedControlPlane } from "../../../hack/controlplane/controlplane.ts";
import { launchBrowser, textOf, watchedPage } from "../../support/browser.ts";
import { eventually } from "../../support/cluster.ts";
import { kubectlAsync, kubectlAsyncOk } from "../../support/kubectl.ts";
import {
  confirmEmail,
  logIn,
  registerApplication,
  showKey,
  signUp,
  subscribe,
} from "../../support/portal-pages.ts";
import { bannerValue, type DevProcess, startDevProcess } from "../journey/dev-process.ts";

const DEV = resolve(".dev");
const PASSWORD = "correct horse battery staple";
const who = { name: "Fiona First", email: `fiona.${Date.now().toString(36)}@example.com` };
/** The operator's reconcile limit (WICKED_RECONCILE_TIMEOUT_SECONDS' default). */
const RECONCILE_LIMIT_SECONDS = 30;

const existedBefore = {
  controlPlane: existsSync(join(DEV, "controlplane", "state.json")),
  postgres: existsSync(join(DEV, "postgres")),
  mail: existsSync(join(DEV, "mail")),
};
let dev: DevProcess | undefined;
let browser: Browser | undefined;
let page: Page;

const makeDev = () => startDevProcess({}, { command: ["make", "dev"], cleanEnv: true, timeoutMs: 900_000 });
const value = (label: string) => {
  const v = dev && bannerValue(dev.banner, label);
  if (!v) throw new Error(`make dev printed no "${label}:" line:\n${dev?.banner}`);
  return v;
};
const errorLines = (output: string) => output.split("\n").filter((l) => /"level":(50|60)/.test(l));

beforeAll(async () => {
  dev = await makeDev();
  browser = await launchBrowser();
  page = (await watchedPage(await browser.newContext())).page;
  page.setDefaultTimeout(45_000);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await dev?.stop(20_000, "SIGINT");
  if (!existedBefore.controlPlane) {
    const state = join(DEV, "controlplane", "state.json");
    if (existsSync(state)) await stopDetachedControlPlane(join(DEV, "controlplane"));
  }
  if (!existedBefore.postgres) rmSync(join(DEV, "postgres"), { recursive: true, force: true });
  if (!existedBefore.mail) rmSync(join(DEV, "mail"), { recursive: true, force: true });
}, 120_000);

describe("the README's first five minutes with make dev", () => {
  it("signs up, confirms through the inbox, subscribes, and the key works at the printed gateway URL", async () => {
    const portal = value("portal");
    const inbox = value("mail inbox");
    const gateway = value("gateway");
    expect(dev?.banner).toContain("the Kong TEST DOUBLE from test/kong, not Kong");

    await signUp(page, portal, who, PASSWORD);
    await page.goto(inbox);
    await eventually(
      "the mail in the inbox",
      async () => {
        await page.reload();
        return (await page.getByText(who.email).count()) > 0;
      },
      60_000,
    );
    const mails = (await (await fetch(`${inbox}/api/email`)).json()) as unknown[];
    const mail = JSON.stringify(mails.filter((m) => JSON.stringify(m).includes(who.email)).at(-1));
    const link = /(http:\/\/[^"\s\\]+\/verify-email\?token=[^"\s\\<]+)/.exec(mail)?.[1];
    expect(link, mail).toBeDefined();
    await confirmEmail(page, link ?? "");

    await logIn(page, { portal, auth: value("auth server") }, who.email, PASSWORD);
    await registerApplication(page, portal, "Storefront", "Our web shop.");
    const subscription = await subscribe(page, portal, "orders", "Storefront", "basic");
    const { key, header } = await showKey(
      page,
      subscription,
      120_000,
      () => dev?.output().slice(-5_000) ?? "",
    );
    expect(header).toBe("X-Api-Key");
    await eventually(
      "the key works at the gateway",
      async () => {
        return (await fetch(`${gateway}/orders`, { headers: { [header]: key } })).status === 200;
      },
      60_000,
    );
    expect((await fetch(`${gateway}/orders`)).status).toBe(401);
  }, 600_000);

  it("has every sample Ready within a minute, no work held past the reconcile limit, and no error in its log", async () => {
    const kubeconfig = value("kubeconfig");
    const names = (await kubectlAsyncOk(kubeconfig, ["get", "wicked", "-n", "default", "-o", "name"]))
      .trim()
      .split("\n");
    const wait = await kubectlAsync(
      kubeconfig,
      ["wait", "--for=condition=Ready", "-n", "default", "--timeout=60s", ...names],
      90_000,
    );
    expect(wait.code, wait.stderr).toBe(0);
    const metricsUrl = /operator:\s+metrics (\S+),/.exec(dev?.banner ?? "")?.[1];
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    const unfinished = metrics
      .split("\n")
      .filter((l) => l.startsWith("workqueue_unfinished_work_seconds{"))
      .map((l) => Number(l.split(" ").at(-1)));
    expect(unfinished.length).toBeGreaterThan(0);
    expect(Math.max(...unfinished)).toBeLessThan(RECONCILE_LIMIT_SECONDS);
    expect(errorLines(dev?.output() ?? "")).toEqual([]);
  }, 120_000);

  it("stops within 10 s on Ctrl-C and starts again with the same account and application", async () => {
    const t0 = Date.now();
    const how = await dev?.stop(30_000, "SIGINT");
    const seconds = (Date.now() - t0) / 1000;
    console.log(`make dev stopped ${seconds.toFixed(1)} s after Ctrl-C (${how})`);
    expect(seconds, dev?.output().slice(-4_000)).toBeLessThan(10);
    expect(dev?.output()).toContain("wicked dev stopped.");

    dev = await makeDev();
    const portal = value("portal");
    // A fresh browser: the account, not a session cookie, is what must have survived.
    page = (await watchedPage(await (browser as Browser).newContext())).page;
    await logIn(page, { portal, auth: value("auth server") }, who.email, PASSWORD);
    await page.goto(`${portal}/applications`);
    expect(await textOf(page.getByRole("link", { name: "Storefront" }))).toBe("Storefront");
    expect(errorLines(dev.output())).toEqual([]);
  }, 900_000);
});
