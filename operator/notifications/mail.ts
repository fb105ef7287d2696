/**
 * A mail as it goes out: rendered from an effect's facts, the portal and its templates, with a Message-ID
 * derived from the effect key, so a mail sent again after an interrupted attempt carries the same
 * Message-ID and receiving systems can recognise the copy. Pure.
 */
import { createHash } from "node:crypto";
import type { Facts } from "./effects.ts";
import { MAIL_VARIABLES, type MailKind, type TemplateSet } from "./mail-templates.ts";
import { renderTemplate, TemplateError } from "./templates.ts";

/** The header naming the effect a mail or chat message delivers; for tracing and test sinks. */
export const EFFECT_KEY_HEADER = "X-Wicked-Effect-Key";

/** What a mail says about the portal it comes from. */
export interface PortalFacts {
  /** spec.displayName. */
  portalName: string;
  /** spec.urls.portal without a trailing slash. */
  portalUrl: string;
}

/** A rendered mail, ready for an SMTP transport. */
export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** `<…@domain>`, derived from the effect key. */
  messageId: string;
  headers: Record<string, string>;
}

/** The Message-ID of an effect's mail: the same key always gives the same id. */
export function messageIdFor(effectKey: string, from: string): string {
  const hash = createHash("sha256").update(effectKey).digest("hex").slice(0, 32);
  const domain = /@([^@\s<>]+)>?\s*$/.exec(from)?.[1] ?? "wicked.invalid";
  return `<wicked.${hash}@${domain}>`;
}

/** Links into the portal UI that mails point to. */
export function portalLinks(portalUrl: string, facts: Facts, token?: string) {
  const base = portalUrl.replace(/\/+$/, "");
  const t = encodeURIComponent(token ?? "");
  return {
    verifyUrl: `${base}/verify-email?token=${t}`,
    resetUrl: `${base}/reset-password?token=${t}`,
    approvalsUrl: `${base}/approvals`,
    applicationUrl: `${base}/applications/${encodeURIComponent(facts.applicationName ?? "")}`,
  };
}

/** Every placeholder value of a kind of mail; facts the effect lacks get a neutral wording. */
export function mailValues(
  kind: MailKind,
  facts: Facts,
  portal: PortalFacts,
  token?: string,
): Record<string, string> {
  const defaults: Record<string, string> = {
    userName: facts.email ?? "",
    email: "",
    subscription: "",
    application: facts.applicationName ?? "",
    api: "",
    plan: "",
    decidedBy: "an approver",
    reason: "no reason given",
    issuedAt: "",
    requesterName: facts.requesterEmail ?? "",
    requesterEmail: "",
  };
  const all: Record<string, string> = {
    ...defaults,
    ...facts,
    ...portal,
    ...portalLinks(portal.portalUrl, facts, token),
  };
  return Object.fromEntries(MAIL_VARIABLES[kind].map((name) => [name, all[name] ?? ""]));
}

/**
 * Renders the mail of an effect. Throws TemplateError when the portal's override of this kind is broken
 * (the effect waits until the ConfigMap is fixed) or a token mail has no token.
 */
export function renderMail(
  effect: { key: string; kind: MailKind; to: readonly string[]; facts: Facts },
  portal: PortalFacts,
  templates: TemplateSet,
  from: string,
  token?: string,
): MailMessage {
  const parts = templates.byKind[effect.kind];
  if (parts instanceof TemplateError) throw parts;
  const values = mailValues(effect.kind, effect.facts, portal, token);
  return {
    from,
    to: [...effect.to],
    subject: renderTemplate(parts.subject, values, "subject"),
    text: renderTemplate(parts.text, values, "text"),
    html: renderTemplate(parts.html, values, "html"),
    messageId: messageIdFor(effect.key, from),
    headers: { [EFFECT_KEY_HEADER]: effect.key, "Auto-Submitted": "auto-generated" },
  };
}
