/**
 * What `wicked dev` changes on the sample ApiPortal so it works on a laptop, as pure functions: the gateway
 * (the Kong of KONG_ADMIN_URL, or none), the URLs of the locally running components, no replicas in the
 * cluster (the components run in the `wicked dev` process instead), and mail and chat pointed at the local
 * SMTP server and webhook of WICKED_DEV_SMTP_URL and WICKED_DEV_CHAT_URL, through Secrets of their own.
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { ApiPortalSpec, ChatTarget } from "../../api/v1alpha1/index.ts";

/** The Secret with the SMTP URL that `wicked dev` creates when WICKED_DEV_SMTP_URL is set. */
export const DEV_SMTP_SECRET = "wicked-dev-smtp";
/** The Secret with the chat webhook URL that `wicked dev` creates when WICKED_DEV_CHAT_URL is set. */
export const DEV_CHAT_SECRET = "wicked-dev-chat";
/** The chat target `wicked dev` posts to. */
export const DEV_CHAT_TARGET = "wicked-dev";
/** The events posted to the dev chat target: the ones a platform team watches. */
export const DEV_CHAT_EVENTS: ChatTarget["events"] = ["SignedUp", "SubscriptionAdded", "ApprovalRequired"];
/** Sender of the portal's mails when the portal declares no mail settings of its own. */
export const DEV_MAIL_FROM = "wicked dev <noreply@wicked.localhost>";

/** The settings of `wicked dev`, read from the environment. */
export interface DevSettings {
  /** KONG_ADMIN_URL: the Kong Admin API the APIs are published on; none without it. */
  kongAdminUrl?: string;
  /** KONG_PROXY_URL: where clients call the APIs (spec.urls.gateway); the sample's URL without it. */
  kongProxyUrl?: string;
  /** WICKED_DEV_SMTP_URL: the SMTP server the portal's mails go to; the sample's mail settings without it. */
  smtpUrl?: string;
  /** WICKED_DEV_CHAT_URL: a Slack-style incoming webhook for chat messages; the sample's targets without it. */
  chatUrl?: string;
}

/** Reads the settings; empty variables count as unset. */
export function devSettingsFromEnv(env: NodeJS.ProcessEnv): DevSettings {
  const settings: DevSettings = {};
  if (env.KONG_ADMIN_URL) settings.kongAdminUrl = env.KONG_ADMIN_URL;
  if (env.KONG_PROXY_URL) settings.kongProxyUrl = env.KONG_PROXY_URL;
  if (env.WICKED_DEV_SMTP_URL) settings.smtpUrl = env.WICKED_DEV_SMTP_URL;
  if (env.WICKED_DEV_CHAT_URL) settings.chatUrl = env.WICKED_DEV_CHAT_URL;
  return settings;
}

/**
 * The JSON merge patch for the portal. `current` is its spec as applied (mail settings are kept where they
 * exist, only their SMTP Secret changes); `urls` are the local components' URLs; `replicas` what the
 * Deployments ask for: 1 on a cluster without nodes, where `make dev` reports its in-process components'
 * health on them (deployment-status.ts), 0 on a cluster with nodes, which must not start pods of them.
 * The sample's OIDC provider and chat targets name a company's identity provider and Secrets that do not
 * exist on a laptop: they go, unless WICKED_DEV_CHAT_URL gives chat a local target.
 */
export function devPortalPatch(
  current: Pick<ApiPortalSpec, "mail">,
  settings: DevSettings,
  urls: { portal: string; api: string; auth: string },
  replicas: number,
): { spec: Record<string, unknown> } {
  const spec: Record<string, unknown> = {
    // Without a Kong to talk to, the portal runs without a gateway and GatewayReady says so.
    gateway: settings.kongAdminUrl
      ? { mode: "External", adminUrl: settings.kongAdminUrl }
      : { mode: "None", adminUrl: null },
    urls: { ...urls, ...(settings.kongProxyUrl ? { gateway: settings.kongProxyUrl } : {}) },
    // The components run in the `wicked dev` process; the cluster runs none of their pods.
    components: {
      portalUi: { replicas },
      portalApi: { replicas },
      authServer: { replicas },
    },
    login: { oidc: null },
    chat: null,
  };
  if (settings.smtpUrl) {
    spec.mail = {
      smtpSecretRef: { name: DEV_SMTP_SECRET },
      ...(current.mail ? {} : { from: DEV_MAIL_FROM }),
    };
  }
  if (settings.chatUrl) {
    const target: ChatTarget = {
      name: DEV_CHAT_TARGET,
      type: "Slack",
      webhookUrlSecretRef: { name: DEV_CHAT_SECRET, key: "url" },
      events: DEV_CHAT_EVENTS,
    };
    // A merge patch replaces the list: the sample's targets name Secrets that do not exist on a laptop.
    spec.chat = { targets: [target] };
  }
  return { spec };
}

/**
 * The Secrets `wicked dev` creates next to the portal: the database URL under the sample's Secret (its own
 * points at a production-like host), and the SMTP and chat URLs when they are set.
 */
export function devSecrets(
  databaseSecret: { name: string; key: string },
  databaseUrl: string,
  settings: DevSettings,
): V1Secret[] {
  const secret = (name: string, key: string, value: string): V1Secret => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "wicked-dev" } },
    type: "Opaque",
    stringData: { [key]: value },
  });
  return [
    secret(databaseSecret.name, databaseSecret.key, databaseUrl),
    ...(settings.smtpUrl ? [secret(DEV_SMTP_SECRET, "url", settings.smtpUrl)] : []),
    ...(settings.chatUrl ? [secret(DEV_CHAT_SECRET, "url", settings.chatUrl)] : []),
  ];
}
