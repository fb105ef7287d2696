/**
 * The I/O edge of notifications: SMTP through nodemailer and chat webhooks through fetch. Failures become
 * a DeliveryError that says whether retrying can help and what to fix, and never repeats the SMTP URL or
 * the webhook URL (both are secrets).
 */
import nodemailer, { type NodemailerError, type Transporter } from "nodemailer";
import type { MailMessage } from "./mail.ts";

/**
 * Delivering one notification failed. `permanent`: the same message would be refused again, so give up.
 * `channelWide`: the failure is not about this message (the server is down, the Secret is missing), so
 * the other messages of the channel need not be tried right now either.
 */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  readonly channelWide: boolean;
  constructor(
    message: string,
    readonly permanent: boolean,
    options: { cause?: unknown; channelWide?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.channelWide = options.channelWide ?? !permanent;
  }
}

/** Sends mails; one implementation speaks SMTP, tests may substitute another. */
export interface MailSender {
  /** Resolves once the server accepted the message (its 250 after DATA); throws DeliveryError otherwise. */
  send(smtpUrl: string, message: MailMessage): Promise<void>;
  /** Closes open connections. */
  close(): Promise<void>;
}

/** Posts chat messages to incoming webhooks. */
export interface ChatSender {
  /** Resolves once the webhook answered 2xx; throws DeliveryError otherwise. */
  post(url: string, body: object, effectKey: string): Promise<void>;
}

/** Replaces every occurrence of the secrets in a message. */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  return out;
}

function secretsOfUrl(url: string): string[] {
  try {
    const u = new URL(url);
    return [url, decodeURIComponent(u.password), u.password, u.pathname + u.search].filter(
      (s) => s.length > 1,
    );
  } catch {
    return [url];
  }
}

/** Turns a nodemailer error into a DeliveryError with advice. */
export function smtpDeliveryError(err: unknown, smtpUrl: string): DeliveryError {
  const e = (err ?? {}) as NodemailerError;
  const detail = redact(e.message ?? String(err), secretsOfUrl(smtpUrl));
  const code = e.code ?? "";
  if (code === "EAUTH" || code === "ENOAUTH") {
    return new DeliveryError(
      `The SMTP server refused the login (${detail}); fix the user and password in the mail Secret's url`,
      false,
      { cause: err },
    );
  }
  // A 5xx reply to the envelope or the message: the server would refuse the same mail again.
  if (e.permanent === true && (code === "EENVELOPE" || code === "EMESSAGE")) {
    return new DeliveryError(`The SMTP server refused the mail for good (${detail})`, true, { cause: err });
  }
  if (
    ["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ETLS"].includes(code) ||
    e.responseCode === undefined
  ) {
    return new DeliveryError(
      `Cannot reach the SMTP server (${detail}); check the host and port in the mail Secret's url and that the server accepts connections from the operator`,
      false,
      { cause: err },
    );
  }
  return new DeliveryError(`The SMTP server did not accept the mail (${detail})`, false, {
    cause: err,
    channelWide: false,
  });
}

/** Connection settings derived from the claim lease: a send must end well before its claim expires. */
export interface SmtpTimeouts {
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
}

/** SMTP through nodemailer, one transport per URL (one per portal), reused until close(). */
export class SmtpMailer implements MailSender {
  private readonly transports = new Map<string, Transporter>();

  constructor(private readonly timeouts: SmtpTimeouts) {}

  private transport(url: string): Transporter {
    let transport = this.transports.get(url);
    if (!transport) {
      try {
        transport = nodemailer.createTransport({
          url,
          connectionTimeout: this.timeouts.connectionTimeoutMs,
          greetingTimeout: this.timeouts.greetingTimeoutMs,
          socketTimeout: this.timeouts.socketTimeoutMs,
          disableFileAccess: true,
          disableUrlAccess: true,
        });
      } catch (err) {
        throw new DeliveryError(
          `The mail Secret's url is not a valid SMTP URL (${redact((err as Error).message, secretsOfUrl(url))}); use smtp://user:password@host:587 or smtps://user:password@host:465`,
          false,
          { cause: err },
        );
      }
      this.transports.set(url, transport);
    }
    return transport;
  }

  async send(smtpUrl: string, message: MailMessage): Promise<void> {
    const transport = this.transport(smtpUrl);
    try {
      await transport.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        headers: message.headers,
      });
    } catch (err) {
      throw smtpDeliveryError(err, smtpUrl);
    }
  }

  async close(): Promise<void> {
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
  }
}

/** Posts JSON with fetch; the effect key travels as Idempotency-Key for services that honour it. */
export class WebhookPoster implements ChatSender {
  constructor(private readonly timeoutMs: number) {}

  async post(url: string, body: object, effectKey: string): Promise<void> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": effectKey },
        body: JSON.stringify(body),
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const detail = redact(cause?.code ?? cause?.message ?? (err as Error).message, secretsOfUrl(url));
      throw new DeliveryError(
        `Cannot reach the chat webhook (${detail}); check the URL in the target's Secret and that the service is up`,
        false,
        { cause: err },
      );
    }
    const text = redact((await response.text().catch(() => "")).slice(0, 200), secretsOfUrl(url));
    if (response.status >= 200 && response.status < 300) return;
    throw new DeliveryError(
      `The chat webhook answered ${response.status}${text ? ` (${text})` : ""}; ${
        response.status === 404 || response.status === 410 || response.status === 403
          ? "the webhook URL in the target's Secret is no longer valid, replace it"
          : "it is retried with backoff"
      }`,
      false,
      // A refused payload concerns this message; anything else the whole target.
      { channelWide: ![400, 413, 422].includes(response.status) },
    );
  }
}
