/**
 * The mails wicked sends, their placeholders and default texts, and how a portal's ConfigMap overrides
 * them (keys `<kind>.subject`, `<kind>.text`, `<kind>.html`, e.g. `verify-email.subject`). Pure.
 */
import { parseTemplate, type Template, TemplateError } from "./templates.ts";

/** Every kind of mail, named as its ConfigMap keys are. */
export const MAIL_KINDS = [
  "verify-email",
  "password-reset",
  "welcome",
  "approval-required",
  "subscription-approved",
  "subscription-rejected",
  "credentials-rotated",
] as const;

/** A kind of mail. */
export type MailKind = (typeof MAIL_KINDS)[number];

/** The three parts of a mail that a template renders. */
export const MAIL_PARTS = ["subject", "text", "html"] as const;

/** A part of a mail. */
export type MailPart = (typeof MAIL_PARTS)[number];

const USER = ["portalName", "portalUrl", "userName", "email"] as const;
const SUBSCRIPTION = ["subscription", "application", "api", "plan"] as const;

/** The placeholders each kind of mail offers. */
export const MAIL_VARIABLES: Readonly<Record<MailKind, readonly string[]>> = {
  "verify-email": [...USER, "verifyUrl"],
  "password-reset": [...USER, "resetUrl"],
  welcome: [...USER],
  "approval-required": [
    "portalName",
    "portalUrl",
    ...SUBSCRIPTION,
    "requesterName",
    "requesterEmail",
    "approvalsUrl",
  ],
  "subscription-approved": [...USER, ...SUBSCRIPTION, "decidedBy", "applicationUrl"],
  "subscription-rejected": [...USER, ...SUBSCRIPTION, "decidedBy", "reason"],
  "credentials-rotated": [...USER, ...SUBSCRIPTION, "issuedAt", "applicationUrl"],
};

type Sources = Record<MailPart, string>;

const html = (body: string): string =>
  `<!doctype html>\n<html><body style="font-family: sans-serif; line-height: 1.5">\n${body}\n</body></html>\n`;

/** The default texts, used for every part a portal does not override. */
export const DEFAULT_TEMPLATES: Readonly<Record<MailKind, Sources>> = {
  "verify-email": {
    subject: "Confirm your email address for {{portalName}}",
    text: "Hello {{userName}},\n\nplease confirm that {{email}} is your email address by opening this link:\n\n{{verifyUrl}}\n\nIf you did not sign up at {{portalName}}, ignore this mail.\n",
    html: html(
      '<p>Hello {{userName}},</p>\n<p>please confirm that {{email}} is your email address:</p>\n<p><a href="{{verifyUrl}}">Confirm my email address</a></p>\n<p>If you did not sign up at {{portalName}}, ignore this mail.</p>',
    ),
  },
  "password-reset": {
    subject: "Reset your password for {{portalName}}",
    text: "Hello {{userName}},\n\nsomeone asked to reset the password of {{email}} at {{portalName}}. To choose a new password, open this link:\n\n{{resetUrl}}\n\nIf it was not you, ignore this mail; your password stays as it is.\n",
    html: html(
      '<p>Hello {{userName}},</p>\n<p>someone asked to reset the password of {{email}} at {{portalName}}.</p>\n<p><a href="{{resetUrl}}">Choose a new password</a></p>\n<p>If it was not you, ignore this mail; your password stays as it is.</p>',
    ),
  },
  welcome: {
    subject: "Welcome to {{portalName}}",
    text: "Hello {{userName}},\n\nyour account at {{portalName}} is ready. Register an application and subscribe to APIs at {{portalUrl}}.\n",
    html: html(
      '<p>Hello {{userName}},</p>\n<p>your account at {{portalName}} is ready. <a href="{{portalUrl}}">Register an application and subscribe to APIs</a>.</p>',
    ),
  },
  "approval-required": {
    subject: "Approval required: {{application}} wants {{api}} ({{plan}})",
    text: "{{requesterName}} <{{requesterEmail}}> subscribed the application {{application}} to {{api}} with the plan {{plan}} (subscription {{subscription}}). The plan requires an approval:\n\n{{approvalsUrl}}\n",
    html: html(
      '<p>{{requesterName}} &lt;{{requesterEmail}}&gt; subscribed the application <b>{{application}}</b> to <b>{{api}}</b> with the plan <b>{{plan}}</b> (subscription {{subscription}}).</p>\n<p>The plan requires an approval: <a href="{{approvalsUrl}}">review it</a>.</p>',
    ),
  },
  "subscription-approved": {
    subject: "Your subscription to {{api}} was approved",
    text: "Hello {{userName}},\n\n{{decidedBy}} approved the subscription of {{application}} to {{api}} ({{plan}} plan). Your credentials are ready at {{applicationUrl}}.\n",
    html: html(
      '<p>Hello {{userName}},</p>\n<p>{{decidedBy}} approved the subscription of <b>{{application}}</b> to <b>{{api}}</b> ({{plan}} plan).</p>\n<p><a href="{{applicationUrl}}">Get your credentials</a></p>',
    ),
  },
  "subscription-rejected": {
    subject: "Your subscription to {{api}} was rejected",
    text: "Hello {{userName}},\n\n{{decidedBy}} rejected the subscription of {{application}} to {{api}} ({{plan}} plan):\n\n{{reason}}\n",
    html: html(
      "<p>Hello {{userName}},</p>\n<p>{{decidedBy}} rejected the subscription of <b>{{application}}</b> to <b>{{api}}</b> ({{plan}} plan):</p>\n<blockquote>{{reason}}</blockquote>",
    ),
  },
  "credentials-rotated": {
    subject: "New credentials for {{application}} on {{api}}",
    text: "Hello {{userName}},\n\nthe credentials of {{application}} for {{api}} were rotated at {{issuedAt}}. Get the new ones at {{applicationUrl}}.\n",
    html: html(
      '<p>Hello {{userName}},</p>\n<p>the credentials of <b>{{application}}</b> for <b>{{api}}</b> were rotated at {{issuedAt}}.</p>\n<p><a href="{{applicationUrl}}">Get the new credentials</a></p>',
    ),
  },
};

/** The parsed templates of one kind of mail. */
export type MailTemplates = Readonly<Record<MailPart, Template>>;

/** A portal's templates: per kind, the parsed templates or why the portal's override cannot be used. */
export interface TemplateSet {
  readonly byKind: Readonly<Record<MailKind, MailTemplates | TemplateError>>;
  /** Keys of the ConfigMap that name no template (typos); they change nothing. */
  readonly unknownKeys: readonly string[];
}

/**
 * The templates of a portal: the defaults with the overrides of its ConfigMap (`data`, or undefined
 * without one). A broken override is kept as the error of its kind, so only mails of that kind wait until
 * it is fixed. `where` names the ConfigMap in messages.
 */
export function templateSet(
  overrides: Readonly<Record<string, string>> | undefined,
  where: string,
): TemplateSet {
  const known = new Set(MAIL_KINDS.flatMap((k) => MAIL_PARTS.map((p) => `${k}.${p}`)));
  const unknownKeys = Object.keys(overrides ?? {})
    .filter((key) => !known.has(key))
    .sort();
  const byKind = {} as Record<MailKind, MailTemplates | TemplateError>;
  for (const kind of MAIL_KINDS) {
    try {
      const parts = {} as Record<MailPart, Template>;
      for (const part of MAIL_PARTS) {
        const key = `${kind}.${part}`;
        const override = overrides?.[key];
        parts[part] = parseTemplate(
          override ?? DEFAULT_TEMPLATES[kind][part],
          MAIL_VARIABLES[kind],
          override === undefined ? `The default template ${key}` : `${where} key ${key}`,
        );
      }
      byKind[kind] = parts;
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      byKind[kind] = err;
    }
  }
  return { byKind, unknownKeys };
}
