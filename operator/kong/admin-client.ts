/**
 * A small client of Kong's Admin API: paginated, tag-filtered lists and writes, with Kong's error bodies
 * turned into KongAdminError.
 */

/** Kong refused a request or could not be reached; `status` is 0 when there was no HTTP answer. */
export class KongAdminError extends Error {
  override readonly name = "KongAdminError";
  constructor(
    message: string,
    readonly status: number,
    readonly body?: unknown,
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

/** Talks to one Kong Admin API. */
export class KongAdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly options: KongAdminOptions = {},
  ) {}

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.baseUrl.replace(/\/+$/, "")}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...(this.options.token ? { "Kong-Admin-Token": this.options.token } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new KongAdminError(`Cannot reach Kong's Admin API at ${this.baseUrl} (${code})`, 0);
    }
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const message = (parsed as { message?: string } | undefined)?.message ?? text;
      throw new KongAdminError(
        `Kong answered ${method} ${path} with ${response.status}: ${message}`,
        response.status,
        parsed,
      );
    }
    return parsed;
  }

  /** Lists every entity of a collection carrying all the tags, following pagination. */
  async listTagged(collection: string, tags: string[]): Promise<KongEntity[]> {
    const all: KongEntity[] = [];
    let next: string | null = `/${collection}?size=1000&tags=${encodeURIComponent(tags.join(","))}`;
    while (next) {
      const page = (await this.request("GET", next)) as { data: KongEntity[]; next: string | null };
      all.push(...page.data);
      next = page.next;
    }
    return all;
  }

  /** Deletes an entity; Kong answers 204 also when it is already gone. */
  async delete(collection: string, id: string): Promise<void> {
    await this.request("DELETE", `/${collection}/${encodeURIComponent(id)}`);
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
