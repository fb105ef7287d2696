import { describe, expect, it } from "vitest";
import {
  DEV_CHAT_EVENTS,
  DEV_CHAT_SECRET,
  DEV_MAIL_FROM,
  DEV_SMTP_SECRET,
  devPortalPatch,
  devSecrets,
  devSettingsFromEnv,
} from "./portal-settings.ts";

const urls = {
  portal: "http://127.0.0.1:3000",
  api: "http://127.0.0.1:3001",
  auth: "http://127.0.0.1:3010/auth",
};
const sampleMail = { smtpSecretRef: { name: "portal-smtp" }, from: "Shop <noreply@shop.example.com>" };

describe("devSettingsFromEnv", () => {
  it("reads the four variables and treats empty ones as unset", () => {
    expect(
      devSettingsFromEnv({
        KONG_ADMIN_URL: "http://127.0.0.1:8001",
        KONG_PROXY_URL: "",
        WICKED_DEV_SMTP_URL: "smtp://u:p@127.0.0.1:2525",
        WICKED_DEV_CHAT_URL: "http://127.0.0.1:9000/hook",
      }),
    ).toEqual({
      kongAdminUrl: "http://127.0.0.1:8001",
      smtpUrl: "smtp://u:p@127.0.0.1:2525",
      chatUrl: "http://127.0.0.1:9000/hook",
    });
  });
});

describe("devPortalPatch", () => {
  it("without Kong, mail or chat: no gateway, local URLs, the sample's mail untouched, its OIDC provider and chat targets gone", () => {
    const { spec } = devPortalPatch({ mail: sampleMail }, {}, urls, 0);
    expect(spec.gateway).toEqual({ mode: "None", adminUrl: null });
    expect(spec.urls).toEqual(urls);
    expect(spec.components).toEqual({
      portalUi: { replicas: 0 },
      portalApi: { replicas: 0 },
      authServer: { replicas: 0 },
    });
    expect(spec).not.toHaveProperty("mail");
    expect(spec.login).toEqual({ oidc: null });
    expect(spec.chat).toBeNull();
  });

  it("asks for the replicas it is given (one, where make dev reports the in-process components' health)", () => {
    expect(devPortalPatch({}, {}, urls, 1).spec.components).toEqual({
      portalUi: { replicas: 1 },
      portalApi: { replicas: 1 },
      authServer: { replicas: 1 },
    });
  });

  it("publishes on the given Kong and writes its proxy URL as the gateway URL", () => {
    const { spec } = devPortalPatch(
      {},
      { kongAdminUrl: "http://127.0.0.1:8001", kongProxyUrl: "http://127.0.0.1:8000" },
      urls,
      0,
    );
    expect(spec.gateway).toEqual({ mode: "External", adminUrl: "http://127.0.0.1:8001" });
    expect(spec.urls).toEqual({ ...urls, gateway: "http://127.0.0.1:8000" });
  });

  it("points existing mail settings at the dev SMTP Secret and keeps their sender", () => {
    const { spec } = devPortalPatch({ mail: sampleMail }, { smtpUrl: "smtp://127.0.0.1:2525" }, urls, 0);
    expect(spec.mail).toEqual({ smtpSecretRef: { name: DEV_SMTP_SECRET } });
  });

  it("gives a portal without mail settings a sender", () => {
    const { spec } = devPortalPatch({}, { smtpUrl: "smtp://127.0.0.1:2525" }, urls, 0);
    expect(spec.mail).toEqual({ smtpSecretRef: { name: DEV_SMTP_SECRET }, from: DEV_MAIL_FROM });
  });

  it("replaces the chat targets with one Slack target for sign-ups, subscriptions and approvals", () => {
    const { spec } = devPortalPatch({}, { chatUrl: "http://127.0.0.1:9000/hook" }, urls, 0);
    expect(spec.chat).toEqual({
      targets: [
        {
          name: "wicked-dev",
          type: "Slack",
          webhookUrlSecretRef: { name: DEV_CHAT_SECRET, key: "url" },
          events: DEV_CHAT_EVENTS,
        },
      ],
    });
    expect(DEV_CHAT_EVENTS).toEqual(
      expect.arrayContaining(["SignedUp", "SubscriptionAdded", "ApprovalRequired"]),
    );
  });
});

describe("devSecrets", () => {
  it("always writes the database URL under the portal's Secret, and the SMTP and chat URLs when set", () => {
    const ref = { name: "portal-database", key: "url" };
    expect(devSecrets(ref, "postgres://db", {}).map((s) => [s.metadata?.name, s.stringData])).toEqual([
      ["portal-database", { url: "postgres://db" }],
    ]);
    const all = devSecrets(ref, "postgres://db", { smtpUrl: "smtp://m", chatUrl: "http://c" });
    expect(all.map((s) => [s.metadata?.name, s.stringData])).toEqual([
      ["portal-database", { url: "postgres://db" }],
      [DEV_SMTP_SECRET, { url: "smtp://m" }],
      [DEV_CHAT_SECRET, { url: "http://c" }],
    ]);
  });
});
