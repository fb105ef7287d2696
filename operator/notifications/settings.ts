/**
 * A portal's notification settings as the cache shows them: spec.mail with its SMTP Secret and template
 * ConfigMap, spec.chat.targets with their webhook Secrets, and the database. Missing pieces become problems
 * that say what to create, never exceptions: planning goes on, and only delivery waits for the fix.
 */
import type { V1ConfigMap, V1Secret } from "@kubernetes/client-node";
import type { ApiPortal } from "../../api/v1alpha1/index.ts";
import type { Cache } from "../../controller-runtime/cache.ts";
import type { KubeObject } from "../../controller-runtime/types.ts";
import { secretsReferencedBy } from "../apiportal/referenced-secrets.ts";
import { CONFIGMAP, SECRET } from "../gvks.ts";
import type { ChatEvent, ChatType, PlanningConfig } from "./effects.ts";
import type { PortalFacts } from "./mail.ts";
import { type TemplateSet, templateSet } from "./mail-templates.ts";

/** The key of the mail Secret holding the SMTP URL. */
export const SMTP_URL_KEY = "url";

/** spec.mail, resolved. */
export interface MailSettings {
  from: string;
  adminAddresses: string[];
  smtpUrl?: string;
  /** Why mail cannot be sent now (the Secret is missing, …). */
  problem?: string;
  templates: TemplateSet;
  /** Why the template ConfigMap cannot be used; mails wait until it is fixed. */
  templatesProblem?: string;
}

/** One chat target, resolved. */
export interface ChatSettings {
  name: string;
  type: ChatType;
  events: ChatEvent[];
  url?: string;
  problem?: string;
}

/** Everything notifications need from a portal. */
export interface NotificationSettings {
  /** `namespace/name`, the ledger's portal column. */
  portalKey: string;
  portal: PortalFacts;
  /** spec.groups.approver. */
  approverGroup: string;
  mail?: MailSettings;
  chat: ChatSettings[];
  databaseUrl?: string;
  databaseProblem?: string;
}

function secretValue(
  cache: Cache,
  namespace: string,
  name: string,
  key: string,
): { value?: string; problem?: string } {
  const secret = cache.get<V1Secret & KubeObject>(SECRET, { namespace, name });
  if (!secret)
    return { problem: `Secret ${namespace}/${name} does not exist; create it with the key ${key}` };
  const data = secret.data?.[key];
  if (data === undefined) return { problem: `Secret ${namespace}/${name} has no key ${key}; add it` };
  return { value: Buffer.from(data, "base64").toString("utf8").trim() };
}

/** Reads a portal's notification settings from the cache. */
export function readSettings(portal: ApiPortal, cache: Cache): NotificationSettings {
  const namespace = portal.metadata.namespace ?? "";
  const db = secretValue(
    cache,
    namespace,
    portal.spec.database.urlSecretRef.name,
    portal.spec.database.urlSecretRef.key,
  );
  const settings: NotificationSettings = {
    portalKey: `${namespace}/${portal.metadata.name ?? ""}`,
    portal: { portalName: portal.spec.displayName, portalUrl: portal.spec.urls.portal.replace(/\/+$/, "") },
    approverGroup: portal.spec.groups?.approver ?? "approver",
    chat: [],
    ...(db.value !== undefined ? { databaseUrl: db.value } : {}),
    ...(db.problem !== undefined ? { databaseProblem: db.problem } : {}),
  };
  const mail = portal.spec.mail;
  if (mail) {
    const smtp = secretValue(cache, namespace, mail.smtpSecretRef.name, SMTP_URL_KEY);
    const ref = mail.templatesConfigMapRef;
    const where = ref ? `ConfigMap ${namespace}/${ref.name}` : "";
    const configMap = ref
      ? cache.get<V1ConfigMap & KubeObject>(CONFIGMAP, { namespace, name: ref.name })
      : undefined;
    settings.mail = {
      from: mail.from,
      adminAddresses: mail.adminAddresses ?? [],
      templates: templateSet(configMap?.data, where),
      ...(smtp.value !== undefined ? { smtpUrl: smtp.value } : {}),
      ...(smtp.problem !== undefined ? { problem: smtp.problem } : {}),
      ...(ref && !configMap
        ? {
            templatesProblem: `${where} (spec.mail.templatesConfigMapRef) does not exist; create it or remove the reference`,
          }
        : {}),
    };
  }
  for (const target of portal.spec.chat?.targets ?? []) {
    const ref = target.webhookUrlSecretRef;
    const url = secretValue(cache, namespace, ref.name, ref.key);
    settings.chat.push({
      name: target.name,
      type: target.type,
      events: [...target.events],
      ...(url.value !== undefined ? { url: url.value } : {}),
      ...(url.problem !== undefined ? { problem: url.problem } : {}),
    });
  }
  return settings;
}

/** What planning needs from the settings. */
export function planningConfig(settings: NotificationSettings): PlanningConfig {
  return {
    mail: settings.mail !== undefined,
    chat: settings.chat.map((c) => ({ name: c.name, type: c.type, events: c.events })),
  };
}

/** Whether the portal notifies anyone at all. */
export function notifies(settings: NotificationSettings): boolean {
  return settings.mail !== undefined || settings.chat.length > 0;
}

/** Secrets and ConfigMaps a portal's notifications read, as `namespace/name`, for the controllers' watches. */
export function referencedObjects(portal: ApiPortal): { secrets: string[]; configMaps: string[] } {
  const namespace = portal.metadata.namespace ?? "";
  const ref = portal.spec.mail?.templatesConfigMapRef;
  return {
    secrets: secretsReferencedBy(portal).map((s) => `${namespace}/${s}`),
    configMaps: ref ? [`${namespace}/${ref.name}`] : [],
  };
}
