/**
 * An SMTP server for tests (the smtp-server package): it speaks real SMTP with authentication, collects
 * every message it accepts with its envelope, headers and decoded text and HTML parts, and can be stopped
 * and started again on the same port to simulate an outage. Hooks hold a transaction at MAIL FROM or after
 * the message data (before the 250), so a test can kill the sender at an exact point. For tests only.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";

/** A message the sink accepted. */
export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** Header names in lower case; values unfolded and with encoded words decoded. */
  headers: Map<string, string>;
  messageId: string;
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
  /** The text/html part, decoded. */
  html: string;
  raw: string;
  receivedAt: Date;
}

/** A transaction held at a stage until released. */
export interface Hold {
  /** Resolves when a transaction reached the stage and waits. */
  reached: Promise<void>;
  /** Lets it go on (the server then answers as usual). */
  release(): void;
}

/** A running sink. */
export interface SmtpSink {
  port: number;
  /** `smtp://user:password@<host>:port`. */
  url: string;
  /** Every accepted message, in order. */
  messages: ReceivedMail[];
  /** Whether it listens. */
  readonly running: boolean;
  /** Delay before answering MAIL FROM, to widen the time a sender spends in a transaction. */
  latencyMs: number;
  /** Addresses refused at RCPT TO with 550. */
  rejectRecipients: Set<string>;
  /** Holds the next transaction at MAIL FROM ("mail") or after its data, before the 250 ("data"). */
  hold(stage: "mail" | "data"): Hold;
  /** Stops listening and drops open connections (an outage). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** Options of a sink. */
export interface SmtpSinkOptions {
  user?: string;
  password?: string;
  port?: number;
  /** Address to listen on (and to put in the URL); 127.0.0.1 by default. */
  host?: string;
}

function decodeQuotedPrintable(input: string): Buffer {
  const soft = input.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i] ?? "";
    const hex = soft.slice(i + 1, i + 3);
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, "utf8"));
    }
  }
  return Buffer.from(bytes);
}

function decodeWords(value: string): string {
  return value.replace(
    /=\?([^?]+)\?([QqBb])\?([^?]*)\?=(\s+(?==\?))?/g,
    (_m, _charset, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : decodeQuotedPrintable(text.replaceAll("_", " ")).toString("utf8"),
  );
}

function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? "" : raw.slice(end).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function parameter(header: string | undefined, name: string): string | undefined {
  const match = new RegExp(`${name}="?([^";]+)"?`, "i").exec(header ?? "");
  return match?.[1];
}

/** The decoded text/plain and text/html parts of a MIME entity. */
function parts(raw: string): { text: string; html: string } {
  const { headers, body } = splitHeaders(raw);
  const type = (headers.get("content-type") ?? "text/plain").toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = parameter(headers.get("content-type"), "boundary");
    if (!boundary) return { text: "", html: "" };
    const out = { text: "", html: "" };
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith("--")) break;
      const inner = parts(chunk.replace(/^\r?\n/, ""));
      out.text ||= inner.text;
      out.html ||= inner.html;
    }
    return out;
  }
  const encoding = (headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  const decoded =
    encoding === "base64"
      ? Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8")
      : encoding === "quoted-printable"
        ? decodeQuotedPrintable(body).toString("utf8")
        : body;
  const content = decoded.replace(/\r\n/g, "\n").replace(/\n$/, "");
  if (type.startsWith("text/html")) return { text: "", html: content };
  if (type.startsWith("text/plain")) return { text: content, html: "" };
  return { text: "", html: "" };
}

/** Parses a message as received over SMTP. */
export function parseMail(raw: string, envelope: ReceivedMail["envelope"]): ReceivedMail {
  const { headers } = splitHeaders(raw);
  const { text, html } = parts(raw);
  return {
    envelope,
    headers,
    messageId: headers.get("message-id") ?? "",
    subject: headers.get("subject") ?? "",
    text,
    html,
    raw,
    receivedAt: new Date(),
  };
}

function readStream(stream: SMTPServerDataStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.on("error", reject);
  });
}

/** Starts a sink on a free port (or `port`). */
export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const user = opts.user ?? "mailer";
  const password = opts.password ?? "s3cret";
  const holds: Record<"mail" | "data", Array<{ arrive: () => void; wait: Promise<void> }>> = {
    mail: [],
    data: [],
  };
  let server: SMTPServer | undefined;
  let port = opts.port ?? 0;
  const host = opts.host ?? "127.0.0.1";

  const waitAt = async (stage: "mail" | "data"): Promise<void> => {
    const hold = holds[stage].shift();
    if (!hold) return;
    hold.arrive();
    await hold.wait;
  };

  const sink: SmtpSink = {
    port: 0,
    url: "",
    messages: [],
    latencyMs: 0,
    rejectRecipients: new Set(),
    get running() {
      return server !== undefined;
    },
    hold(stage) {
      let arrive = () => {};
      let release = () => {};
      const reached = new Promise<void>((r) => {
        arrive = r;
      });
      const wait = new Promise<void>((r) => {
        release = r;
      });
      holds[stage].push({ arrive, wait });
      return { reached, release };
    },
    async start() {
      if (server) return;
      const s = new SMTPServer({
        authOptional: false,
        allowInsecureAuth: true,
        disabledCommands: ["STARTTLS"],
        closeTimeout: 200,
        logger: false,
        onAuth(auth, _session, callback) {
          if (auth.username === user && auth.password === password) callback(null, { user });
          else callback(Object.assign(new Error("535 Authentication failed"), { responseCode: 535 }));
        },
        onMailFrom(_address, _session, callback) {
          const delay = new Promise((r) => setTimeout(r, sink.latencyMs));
          void delay.then(() => waitAt("mail")).then(() => callback());
        },
        onRcptTo(address, _session, callback) {
          if (sink.rejectRecipients.has(address.address.toLowerCase())) {
            callback(Object.assign(new Error(`No such user ${address.address}`), { responseCode: 550 }));
            return;
          }
          callback();
        },
        onData(stream, session: SMTPServerSession, callback) {
          void readStream(stream).then(async (raw) => {
            await waitAt("data");
            const envelope = {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
              to: session.envelope.rcptTo.map((r) => r.address),
            };
            // Accepted: from here on the message counts as delivered, as with any real MTA.
            sink.messages.push(parseMail(raw, envelope));
            callback(null);
          }, callback);
        },
      });
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, host, () => {
          s.off("error", reject);
          resolve();
        });
      });
      s.on("error", () => {
        // A client that vanished mid-transaction (a killed sender) is expected in these tests.
      });
      server = s;
      port = (s.server.address() as AddressInfo).port;
      sink.port = port;
      sink.url = `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await sink.start();
  return sink;
}

/** How often each Message-ID arrived. */
export function countByMessageId(messages: readonly ReceivedMail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
  return counts;
}
