/**
 * The OpenAPI documents Apis point at with spec.openApi.url, fetched for the catalog. Anyone may ask for a
 * catalog Api's document, so a request never causes a fetch of its own: each Api's document is fetched once
 * and kept (five minutes; a failure thirty seconds), and requests that arrive during the fetch wait for it.
 * A fetch follows redirects only within the URL's origin, reads the body as it streams in and stops at
 * 5 MiB, and gives up after 5 s. Its errors say what went wrong in our words and never carry what the
 * server sent, which may be anything the URL's host serves.
 */
import { parseOpenApi } from "./openapi-rewrite.ts";

/** The bounds of one fetch. */
export interface FetchLimits {
  /** Largest body read, in bytes. */
  maxBytes: number;
  /** Time for the whole fetch: connecting, every redirect and the body. */
  timeoutMs: number;
  /** Redirects followed (within the URL's origin) before giving up. */
  maxRedirects: number;
}

/** 5 MiB, 5 s, 3 redirects. */
export const DEFAULT_LIMITS: FetchLimits = { maxBytes: 5 * 1024 * 1024, timeoutMs: 5_000, maxRedirects: 3 };

/** The document could not be fetched; the message says why without quoting the server. */
export class OpenApiFetchError extends Error {
  override readonly name = "OpenApiFetchError";
  constructor(reason: string) {
    super(
      `The Api's OpenAPI document could not be fetched from spec.openApi.url (${reason}); try again later, or ask the Api's team to check the URL.`,
    );
  }
}

/** The text at the URL, within the limits; throws OpenApiFetchError. */
export async function fetchDocumentText(url: string, limits: FetchLimits = DEFAULT_LIMITS): Promise<string> {
  if (!URL.canParse(url)) throw new OpenApiFetchError("not a URL");
  const origin = new URL(url).origin;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let target = url;
  try {
    for (let redirects = 0; ; redirects++) {
      const response = await fetch(target, {
        redirect: "manual",
        signal,
        headers: { accept: "application/json, application/yaml;q=0.9, */*;q=0.5" },
      });
      const location = response.status >= 300 && response.status < 400 && response.headers.get("location");
      if (location) {
        await response.body?.cancel();
        if (redirects >= limits.maxRedirects) throw new OpenApiFetchError("too many redirects");
        const next = new URL(location, target);
        if (next.origin !== origin) throw new OpenApiFetchError("it redirects to another host");
        target = next.href;
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new OpenApiFetchError(`HTTP ${response.status}`);
      }
      return await readText(response, limits.maxBytes);
    }
  } catch (err) {
    if (err instanceof OpenApiFetchError) throw err;
    if (signal.aborted) throw new OpenApiFetchError(`no answer within ${limits.timeoutMs / 1000} s`);
    throw new OpenApiFetchError("the host could not be reached");
  }
}

/** The body as UTF-8, refused as soon as it is larger than maxBytes (declared or read so far). */
async function readText(response: Response, maxBytes: number): Promise<string> {
  const tooLarge = () => new OpenApiFetchError(`larger than ${maxBytes / (1024 * 1024)} MiB`);
  if (Number(response.headers.get("content-length")) > maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** How long documents are kept, and the bounds of a fetch. */
export interface OpenApiDocumentsOptions {
  /** How long a fetched document is served before it is fetched again; default 5 minutes. */
  ttlMs?: number;
  /** How long a failed fetch (or a document that is not OpenAPI) is answered as such; default 30 s. */
  failureTtlMs?: number;
  limits?: FetchLimits;
  now?: () => number;
}

/** Parsed documents by Api; shared between requests, so callers copy before they change one. */
export interface OpenApiDocuments {
  /**
   * The document of the Api (`namespace/name`) at the URL: the kept one, the one being fetched, or a new
   * fetch. Throws OpenApiFetchError, or OpenApiDocumentError when it is not an OpenAPI document.
   */
  get(api: string, url: string): Promise<Record<string, unknown>>;
}

/** A cache of the documents at Apis' URLs, one entry per Api. */
export function openApiDocuments(opts: OpenApiDocumentsOptions = {}): OpenApiDocuments {
  const ttl = opts.ttlMs ?? 5 * 60_000;
  const failureTtl = opts.failureTtlMs ?? 30_000;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const now = opts.now ?? Date.now;
  const entries = new Map<
    string,
    { url: string; document: Promise<Record<string, unknown>>; expiresAt: number }
  >();

  return {
    get(api, url) {
      const at = now();
      const kept = entries.get(api);
      if (kept && kept.url === url && kept.expiresAt > at) return kept.document;
      for (const [key, entry] of entries) if (entry.expiresAt <= at) entries.delete(key);
      const entry = {
        url,
        // Until the fetch ends, every request waits for it.
        expiresAt: Number.POSITIVE_INFINITY,
        document: fetchDocumentText(url, limits).then(parseOpenApi),
      };
      entry.document.then(
        () => {
          entry.expiresAt = now() + ttl;
        },
        () => {
          entry.expiresAt = now() + failureTtl;
        },
      );
      entries.set(api, entry);
      return entry.document;
    },
  };
}
