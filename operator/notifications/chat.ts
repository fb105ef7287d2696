/**
 * Chat messages for Slack, Microsoft Teams and RocketChat incoming webhooks. A message is a list of
 * segments — fixed wording, values from users (escaped for the platform's markup, so a name cannot turn
 * into a link or a mention) and links from the portal's own URLs — formatted per platform. Pure.
 */
import type { ChatEvent, ChatType, Facts } from "./effects.ts";
import { type PortalFacts, portalLinks } from "./mail.ts";

/** A piece of a chat message. */
export type Segment = { text: string } | { value: string } | { link: string; label: string };

/** The message about an event, as segments. */
export function chatSegments(event: ChatEvent, facts: Facts, portal: PortalFacts): Segment[] {
  const v = (name: string): Segment => ({ value: facts[name] ?? "" });
  const t = (text: string): Segment => ({ text });
  const at: Segment[] = [t(" at "), { value: portal.portalName }];
  switch (event) {
    case "SignedUp":
      return [t("New sign-up"), ...at, t(": "), v("userName"), t(" ("), v("email"), t(")")];
    case "UserVerified":
      return [v("userName"), t(" ("), v("email"), t(") verified their email address"), ...at];
    case "ApplicationAdded":
      return [v("userName"), t(" registered the application "), v("application"), ...at];
    case "ApplicationDeleted":
      return [v("userName"), t(" deleted the application "), v("application"), ...at];
    case "SubscriptionAdded":
      return [
        v("userName"),
        t(" subscribed "),
        v("application"),
        t(" to "),
        v("api"),
        t(" ("),
        v("plan"),
        t(" plan)"),
      ];
    case "SubscriptionDeleted":
      return [v("userName"), t(" removed the subscription of "), v("application"), t(" to "), v("api")];
    case "PasswordResetRequested":
      return [v("email"), t(" asked to reset their password"), ...at];
    case "ApprovalRequired":
      return [
        v("requesterName"),
        t(" subscribed "),
        v("application"),
        t(" to "),
        v("api"),
        t(" ("),
        v("plan"),
        t(" plan), which needs an approval: "),
        { link: portalLinks(portal.portalUrl, facts).approvalsUrl, label: "review it" },
      ];
  }
}

/** Escapes a value for Slack's mrkdwn: `<`, `>` and `&` would start links, mentions and entities. */
export function escapeSlack(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Escapes a value for Markdown (RocketChat, Teams) with backslashes before every markup character. */
export function escapeMarkdown(value: string): string {
  return value.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}

/**
 * Escapes a value for RocketChat: Markdown, and a zero-width space after every `@`, so a name such as
 * `@all` cannot notify a whole channel.
 */
export function escapeRocketChat(value: string): string {
  return escapeMarkdown(value).replaceAll("@", "@\u200b");
}

function escapeValue(value: string, type: ChatType): string {
  if (type === "Slack") return escapeSlack(value);
  return type === "RocketChat" ? escapeRocketChat(value) : escapeMarkdown(value);
}

function format(segments: readonly Segment[], type: ChatType): string {
  return segments
    .map((s) => {
      if ("text" in s) return s.text;
      if ("value" in s) return escapeValue(s.value, type);
      return type === "Slack" ? `<${s.link}|${s.label}>` : `[${s.label}](${s.link})`;
    })
    .join("")
    .replace(/[\r\n]+/g, " ");
}

/** The JSON body an incoming webhook of the type accepts. */
export function chatPayload(type: ChatType, event: ChatEvent, facts: Facts, portal: PortalFacts): object {
  const text = format(chatSegments(event, facts, portal), type);
  if (type === "Teams") {
    // Teams incoming webhooks (Workflows and the older connectors) accept an Adaptive Card message.
    return {
      type: "message",
      attachments: [
        {
          contentType: "application/vnd.microsoft.card.adaptive",
          contentUrl: null,
          content: {
            $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
            type: "AdaptiveCard",
            version: "1.4",
            body: [{ type: "TextBlock", text, wrap: true }],
          },
        },
      ],
    };
  }
  return { text };
}
