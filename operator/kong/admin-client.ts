/**
 * A small client of Kong's Admin API: paginated, tag-filtered lists, upserts by id and deletes, with Kong's
 * error bodies turned into KongAdminError. Writes of credentials are marked sensitive: their errors then carry
 * neither Kong's message nor its field values, which would contain the credential.
 */

/** Kong refused a request or could not be reached; `status` is 0 when there was no HTTP answer. */
export class KongAdminError extends Error {
  override readonly name: string = "KongAdminError";
  constructor(
    message: string,
    readonly status: number,
    readonly body?: unknown,
    /** Method and path of the failed request, e.g. `PUT /routes/<id>`. */
    readonly request?: string,
  ) {
    super(message);
  }
}

/** A Kong entity as the Admin API returns it. */
export interface KongEntity {
  id: string;
  tags?: string[] | null;
  [field: string]: unknown;
}

/** Entity collections in the order their members can be deleted (dependents first). */
export const DELETION_ORDER = [
  "plugins",
  "key-auths",
  "jwts",
  "acls",
  "routes",
  "consumers",
  "services",
] as const;

/** Options of the client. */
export interface KongAdminOptions {
  token?: string;
  timeoutMs?: number;
}

/** Options of one request. */
export interface KongRequestOptions {
  /** Aborts the request; the client then rejects with the signal's reason, not a KongAdminError. */
  signal?: AbortSignal;
  /** The request body holds a credential: errors leave out Kong's message and field values. */
  sensitive?: boolean;
}

/** Kong's page size limit; lists ask for full pages. */
export const KONG_MAX_PAGE_SIZE = 1000;

/** The most tags Kong accepts in one `?tags=` filter. */
export const KONG_MAX_FILTER_TAGS = 5;

/** Kong's error body with every field value replaced, keeping which fields failed. */
function redacted(body: unknown): unknown {
  if (typeof body !== "object" || body === null) return undefined;
  const { code, name, fields } = body as { code?: unknown; name?: unknown; fields?: unknown };
  const redactedFields =
    typeof fields === "object" && fields !== null
      ? Object.fromEntries(Object.keys(fields).map((k) => [k, "<redacted>"]))
      : undefined;
  return { code, name, ...(redactedFields ? { fields: redactedFields } : {}) };
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Talks to one Kong Admin API. */
export class KongAdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly options: KongAdminOptions = {},
  ) {}

  private async request(
    method: string,
    path: string,
    body?: unknown,
    opts: KongRequestOptions = {},
  ): Promise<unknown> {
    const url = `${this.baseUrl.replace(/\/+$/, "")}${path}`;
    const what = `${method} ${path.replace(/\?.*$/, "")}`;
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 10_000);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...(this.options.token ? { "Kong-Admin-Token": this.options.token } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout,
      });
    } catch (err) {
      opts.signal?.throwIfAborted();
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new KongAdminError(
        `Cannot reach Kong's Admin API at ${this.baseUrl} (${code})`,
        0,
        undefined,
        what,
      );
    }
    const parsed = parseJson(await response.text());
    if (!response.ok) {
      if (opts.sensitive) {
        const name = (parsed as { name?: unknown } | undefined)?.name;
        throw new KongAdminError(
          `Kong answered ${what} with ${response.status}${typeof name === "string" ? ` (${name})` : ""}`,
          response.status,
          redacted(parsed),
          what,
        );
      }
      const message = (parsed as { message?: string } | undefined)?.message ?? String(parsed ?? "");
      throw new KongAdminError(
        `Kong answered ${what} with ${response.status}: ${message}`,
        response.status,
        parsed,
        what,
      );
    }
    return parsed;
  }

  /**
   * Lists every entity of a collection carrying all the tags (Kong's AND filter, at most five tags), following
   * the pages with full page size.
   */
  async listTagged(collection: string, tags: string[], opts: KongRequestOptions = {}): Promise<KongEntity[]> {
    if (tags.length === 0 || tags.length > KONG_MAX_FILTER_TAGS) {
      throw new RangeError(`a Kong tag filter takes 1 to ${KONG_MAX_FILTER_TAGS} tags, got ${tags.length}`);
    }
    const all: KongEntity[] = [];
    const base = `/${collection}?size=${KONG_MAX_PAGE_SIZE}&tags=${encodeURIComponent(tags.join(","))}`;
    let offset: string | undefined;
    do {
      const path = offset === undefined ? base : `${base}&offset=${encodeURIComponent(offset)}`;
      const page = (await this.request("GET", path, undefined, opts)) as {
        data: KongEntity[];
        offset?: string;
      };
      all.push(...page.data);
      offset = typeof page.offset === "string" && page.offset !== "" ? page.offset : undefined;
    } while (offset !== undefined);
    return all;
  }

  /** Creates or replaces the entity with this id (`PUT /{collection}/{id}`, Kong's upsert). */
  async put(
    collection: string,
    id: string,
    body: unknown,
    opts: KongRequestOptions = {},
  ): Promise<KongEntity> {
    return (await this.request("PUT", `/${collection}/${encodeURIComponent(id)}`, body, opts)) as KongEntity;
  }

  /** Deletes an entity; Kong answers 204 also when it is already gone. */
  async delete(collection: string, id: string, opts: KongRequestOptions = {}): Promise<void> {
    await this.request("DELETE", `/${collection}/${encodeURIComponent(id)}`, undefined, opts);
  }

  /** Deletes every entity carrying all the tags, dependents first. Returns how many were deleted. */
  async deleteTagged(tags: string[]): Promise<number> {
    let deleted = 0;
    for (const collection of DELETION_ORDER) {
      for (const entity of await this.listTagged(collection, tags)) {
        await this.delete(collection, entity.id);
        deleted++;
      }
    }
    return deleted;
  }
}
