/**
 * Delivering claimed effects: render (pure), send (I/O), and record the outcome in the ledger — sent,
 * pending again after a capped exponential backoff with jitter, or given up when the server refused the
 * message for good. Once a channel fails for a reason that is not about one message (the SMTP server is
 * down, a webhook answers 500), the rest of the pass skips it instead of hammering it.
 */
import type { Kysely } from "kysely";
import { type BackoffOptions, backoffDelay } from "../../controller-runtime/backoff.ts";
import type { Database } from "../../db/schema.ts";
import { chatPayload } from "./chat.ts";
import { type ChatEvent, TOKEN_FIELD } from "./effects.ts";
import { abandon, type ClaimedEffect, markSent, release } from "./ledger.ts";
import { renderMail } from "./mail.ts";
import { MAIL_KINDS, type MailKind } from "./mail-templates.ts";
import type { NotificationMetrics } from "./metrics.ts";
import { type ChatSender, DeliveryError, type MailSender } from "./senders.ts";
import type { NotificationSettings } from "./settings.ts";
import { TemplateError } from "./templates.ts";

/** What delivering needs. */
export interface DeliveryContext {
  db: Kysely<Database>;
  settings: NotificationSettings;
  mailer: MailSender;
  chat: ChatSender;
  metrics: NotificationMetrics;
  retry: BackoffOptions;
  /** The claim holder (this replica). */
  holder: string;
  random?: () => number;
}

/** How one delivery ended. */
export type DeliveryOutcome =
  | { status: "sent" }
  | { status: "retry"; error: DeliveryError; delayMs: number }
  | { status: "abandoned"; error: DeliveryError };

const channelDown = (e: ClaimedEffect): string => (e.channel === "email" ? "email" : `chat:${e.target}`);

async function outboxToken(
  db: Kysely<Database>,
  outboxId: string,
  field: string,
): Promise<string | undefined> {
  const row = await db.selectFrom("outbox").select("payload").where("id", "=", outboxId).executeTakeFirst();
  const value = (row?.payload as Record<string, unknown> | undefined)?.[field];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Sends one claimed effect; throws DeliveryError (or TemplateError) when it cannot be delivered now. */
async function send(ctx: DeliveryContext, effect: ClaimedEffect): Promise<void> {
  const { settings } = ctx;
  const facts = effect.payload.facts;
  if (effect.channel === "email") {
    const mail = settings.mail;
    if (!mail)
      throw new DeliveryError("The ApiPortal has no spec.mail any more; the mail waits until it has", false);
    if (mail.problem !== undefined || mail.smtpUrl === undefined)
      throw new DeliveryError(mail.problem ?? "No SMTP URL", false);
    if (mail.templatesProblem !== undefined) throw new DeliveryError(mail.templatesProblem, false);
    if (!(MAIL_KINDS as readonly string[]).includes(effect.kind))
      throw new DeliveryError(`Unknown kind of mail ${effect.kind}`, true);
    const kind = effect.kind as MailKind;
    const field = TOKEN_FIELD[kind];
    let token: string | undefined;
    if (field !== undefined) {
      token = effect.outboxId === null ? undefined : await outboxToken(ctx.db, effect.outboxId, field);
      if (token === undefined) {
        throw new DeliveryError(
          `The one-time token of outbox event ${effect.outboxId ?? "(none)"} is gone; the user can ask for a new mail`,
          true,
        );
      }
    }
    const message = renderMail(
      { key: effect.key, kind, to: effect.payload.to, facts },
      settings.portal,
      mail.templates,
      mail.from,
      token,
    );
    await ctx.mailer.send(mail.smtpUrl, message);
    return;
  }
  const target = settings.chat.find((t) => t.name === effect.target);
  if (!target) {
    throw new DeliveryError(`The chat target ${effect.target} is no longer in spec.chat.targets`, true);
  }
  if (target.problem !== undefined || target.url === undefined)
    throw new DeliveryError(target.problem ?? "No webhook URL", false);
  await ctx.chat.post(
    target.url,
    chatPayload(target.type, effect.kind as ChatEvent, facts, settings.portal),
    effect.key,
  );
}

/**
 * Delivers one claimed effect and records the outcome. `down` holds the channels that failed earlier in
 * this pass: their effects are given back without an attempt.
 */
export async function deliver(
  ctx: DeliveryContext,
  effect: ClaimedEffect,
  down: Map<string, DeliveryError>,
): Promise<DeliveryOutcome> {
  const labels = { channel: effect.channel, kind: effect.kind };
  if (effect.interrupted) ctx.metrics.interrupted.inc({ channel: effect.channel });
  const scrub =
    effect.channel === "email" && TOKEN_FIELD[effect.kind as MailKind] && effect.outboxId !== null
      ? effect.outboxId
      : undefined;
  const skipped = down.get(channelDown(effect));
  let failure: DeliveryError | undefined = skipped;
  if (!skipped) {
    try {
      await send(ctx, effect);
    } catch (err) {
      // Every failure is recorded below: in the ledger, the metrics, the portal's condition and Events.
      failure =
        err instanceof DeliveryError
          ? err
          : err instanceof TemplateError
            ? new DeliveryError(`${err.message}; the mail waits until the template is fixed`, false, {
                cause: err,
                channelWide: false,
              })
            : new DeliveryError(`Unexpected failure: ${(err as Error).message ?? String(err)}`, false, {
                cause: err,
                channelWide: false,
              });
    }
  }
  if (!failure) {
    await markSentPersistently(ctx.db, effect.key, scrub);
    ctx.metrics.sent.inc(labels);
    return { status: "sent" };
  }
  ctx.metrics.failed.inc({ ...labels, permanent: String(failure.permanent) });
  if (failure.permanent) {
    await abandon(ctx.db, effect.key, failure.message, scrub);
    return { status: "abandoned", error: failure };
  }
  if (!skipped && failure.channelWide) down.set(channelDown(effect), failure);
  const delayMs = backoffDelay(Math.max(0, effect.attempts - 1), ctx.retry, ctx.random);
  await release(ctx.db, effect.key, ctx.holder, delayMs, failure.message);
  return { status: "retry", error: failure, delayMs };
}

/**
 * Marks a delivered effect sent, retrying a few times: until this write lands, a crash would send the
 * message again, so a brief database hiccup must not widen that window.
 */
async function markSentPersistently(
  db: Kysely<Database>,
  key: string,
  scrub: string | undefined,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await markSent(db, key, scrub);
      return;
    } catch (err) {
      if (attempt >= 4) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}
