// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// Reusable field types, after kong/db/schema/typedefs.lua (Kong 3.x), with Kong's messages.
import type { Field, ListField, StringField } from "./schema.ts";

/** The protocols Kong OSS 3.x accepts for services, routes and plugins. */
export const PROTOCOLS = ["grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"] as const;

/** The default `protocols` of the HTTP-only plugins (key-auth, jwt, acl, rate-limiting). */
export const HTTP_PLUGIN_PROTOCOLS = ["grpc", "grpcs", "http", "https"] as const;

function checkUtf8Name(name: string): string | undefined {
  return /^[A-Za-z0-9._~\u0080-\u{10FFFF}-]+$/u.test(name)
    ? undefined
    : `invalid value '${name}': the only accepted ascii characters are alphanumerics or ., -, _, and ~`;
}

/** `typedefs.utf8_name`: service, route and plugin instance names. */
export const utf8Name: StringField = { type: "string", check: checkUtf8Name };

const LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?";
const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);
const IPV4_RE = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function checkHostOnly(host: string): string | undefined {
  if (/^\[[0-9a-fA-F:.]+\]$/.test(host) || /^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$/.test(host)) return undefined;
  if (/^[^:]+:\d+$/.test(host)) return "must not have a port";
  return HOSTNAME_RE.test(host) || IPV4_RE.test(host) ? undefined : `invalid value: ${host}`;
}

/** `typedefs.host`: a hostname or IP address without a port (service `host`). */
export const host: StringField = { type: "string", check: checkHostOnly };

function checkRouteHost(value: string): string | undefined {
  const stars = value.split("*").length - 1;
  if (stars > 1) return "invalid wildcard: must have at most one wildcard";
  if (stars === 1 && !value.startsWith("*.") && !value.endsWith(".*")) {
    return "invalid wildcard: must be placed at leftmost or rightmost label";
  }
  const plain = value.replace(/^\*\./, "wildcard.").replace(/\.\*$/, ".wildcard");
  const withoutPort = plain.replace(/:\d+$/, "");
  return checkHostOnly(withoutPort) === undefined ? undefined : `invalid value: ${value}`;
}

const RFC3986_PATH = /^\/[a-zA-Z0-9.\-_~/%!$&'()*+,;=:@]*$/;

function checkPathCharacters(path: string): string | undefined {
  if (!RFC3986_PATH.test(path)) {
    return `invalid path: '${path}' (characters outside of the reserved list of RFC 3986 found)`;
  }
  const badEscape = path.replace(/%[0-9a-fA-F]{2}/g, "___").match(/%.?.?/);
  return badEscape ? `invalid url-encoded value: '${badEscape[0]}'` : undefined;
}

function checkServicePath(path: string): string | undefined {
  if (!path.startsWith("/")) return "should start with: /";
  if (path.includes("//")) return "must not have empty segments";
  return checkPathCharacters(path);
}

/** `typedefs.path`: the service path. */
export const path: StringField = { type: "string", check: checkServicePath };

function checkRouterPath(value: string): string | undefined {
  if (!value.startsWith("/") && !value.startsWith("~/"))
    return "should start with: / (fixed path) or ~/ (regex path)";
  if (value.includes("//")) return "must not have empty segments";
  if (value.startsWith("~")) {
    try {
      new RegExp(value.slice(1));
      return undefined;
    } catch (err) {
      return `invalid regex: '${value}' (PCRE returned: ${err instanceof Error ? err.message : String(err)})`;
    }
  }
  return checkPathCharacters(value);
}

function checkTag(tag: string): string | undefined {
  for (const char of tag) {
    const code = char.codePointAt(0) ?? 0;
    const printable = code === 32 || (code >= 33 && code <= 126 && code !== 44 && code !== 47) || code >= 128;
    if (!printable) {
      return `invalid tag '${tag}': expected printable ascii (except \`,\` and \`/\`) or valid utf-8 sequences`;
    }
  }
  return undefined;
}

/** `typedefs.tags`: printable ASCII (or UTF-8) without `,` and `/`. */
export const tags: ListField = { type: "set", elements: { type: "string", check: checkTag } };

/** `typedefs.header_name`. */
export const headerName: StringField = {
  type: "string",
  check: (v) =>
    /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(v)
      ? undefined
      : `bad header name '${v}', allowed characters are A-Z, a-z, 0-9, '_', and '-'`,
};

/** A set of strings. */
export function stringSet(defaults?: readonly string[]): ListField {
  return defaults === undefined
    ? { type: "set", elements: { type: "string" } }
    : { type: "set", elements: { type: "string" }, default: defaults };
}

/** `typedefs.protocols` with the given default. */
export function protocols(defaults: readonly string[]): ListField {
  return { type: "set", elements: { type: "string", oneOf: PROTOCOLS }, default: defaults };
}

/** Route `methods`: upper-case tokens. */
export const methods: ListField = {
  type: "set",
  elements: { type: "string", check: (v) => (/^[A-Z]+$/.test(v) ? undefined : `invalid value: ${v}`) },
};

/** Route `hosts`: hostnames with optional port and one leading or trailing wildcard. */
export const routeHosts: ListField = { type: "set", elements: { type: "string", check: checkRouteHost } };

/** Route `paths`: prefixes (`/x`) or regular expressions (`~/x/\d+`). */
export const routePaths: ListField = { type: "set", elements: { type: "string", check: checkRouterPath } };

/** A timeout in milliseconds, 1..2^31-2. */
export function timeout(defaultMs: number): Field {
  return { type: "integer", default: defaultMs, between: [1, 2 ** 31 - 2] };
}
