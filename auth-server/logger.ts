/**
 * The auth server's pino logger. Everything secret that passes through it is redacted: authorization and
 * cookie headers, passwords, client secrets, codes, code verifiers and tokens, in logged objects and in query
 * strings (the authorization and callback URLs carry codes and states).
 */
import { type DestinationStream, type Logger, pino } from "pino";

const SECRET_FIELDS = [
  "authorization",
  "cookie",
  "set-cookie",
  "password",
  "client_secret",
  "clientSecret",
  "code",
  "code_verifier",
  "verifier",
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "verifyToken",
  "resetToken",
  "_csrf",
];

/** The pino `redact` paths: each field at the top and the next two levels. */
export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(f) ? `.${f}` : `["${f}"]`;
  return [key.startsWith(".") ? f : `["${f}"]`, `*${key}`, `*.*${key}`];
});

const SECRET_PARAMS = new Set([
  "code",
  "code_verifier",
  "client_secret",
  "token",
  "refresh_token",
  "id_token",
  "access_token",
  "state",
  "nonce",
]);

/** A URL path with the values of secret query parameters replaced by `[Redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of [...params.keys()]) if (SECRET_PARAMS.has(name)) params.set(name, "[Redacted]");
  return `${url.slice(0, q)}?${params.toString()}`;
}

/** Creates the component logger; `destination` lets tests read what was logged. */
export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: "auth-server",
      level: opts.level ?? process.env.WICKED_LOG_LEVEL ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({
          method: req.method,
          url: req.url === undefined ? undefined : redactUrl(req.url),
          remoteAddress: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    opts.destination,
  );
}
