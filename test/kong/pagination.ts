// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// List options of the Admin API: `tags` filters, `size` and opaque `offset`, after kong/api/endpoints.lua and
// the DAO's option validation in Kong 3.x.

import type { JsonObject } from "./json.ts";
import { invalidOffset, invalidOptions, invalidSize } from "./kong-errors.ts";

/** A `?tags=` filter: `a,b` means every tag (and), `a/b` means any tag (or). */
export interface TagFilter {
  readonly tags: readonly string[];
  readonly cond: "and" | "or";
}

/** Kong lists at most this many entities per page. */
const MAX_PAGE_SIZE = 1000;

/** The page size when `size` is not given. */
const DEFAULT_PAGE_SIZE = 100;

/** The most tags a filter may name. */
const MAX_FILTER_TAGS = 5;

const TAG_CHARS = "[\\x21-\\x2B\\x2D\\x2E\\x30-\\x7E]+";
const AND_RE = new RegExp(`^(?:${TAG_CHARS}(?:,|$))+$`);
const OR_RE = new RegExp(`^(?:${TAG_CHARS}(?:/|$))+$`);

/** Parses `?tags=`; throws Kong's `invalid options` error (code 11) for a bad or too long filter. */
export function parseTagFilter(raw: string): TagFilter {
  let filter: TagFilter;
  if (AND_RE.test(raw)) filter = { tags: raw.split(",").filter((t) => t !== ""), cond: "and" };
  else if (OR_RE.test(raw)) filter = { tags: raw.split("/").filter((t) => t !== ""), cond: "or" };
  else throw invalidOptions({ tags: "invalid filter syntax" });
  if (filter.tags.length > MAX_FILTER_TAGS)
    throw invalidOptions({ tags: `cannot query more than ${MAX_FILTER_TAGS} tags` });
  return filter;
}

/** Whether an entity's `tags` satisfy a filter. */
export function matchesTags(entity: JsonObject, filter: TagFilter): boolean {
  const tags = Array.isArray(entity.tags) ? entity.tags : [];
  return filter.cond === "and"
    ? filter.tags.every((t) => tags.includes(t))
    : filter.tags.some((t) => tags.includes(t));
}

/** Parses `?size=`; throws Kong's `invalid size` error (code 9). */
export function parsePageSize(raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE_SIZE;
  const size = Number(raw);
  if (raw.trim() === "" || Number.isNaN(size)) throw invalidSize("size must be a number");
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw invalidSize(`size must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  }
  return size;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Encodes the id of the last entity of a page as an offset (base64 JSON, like Kong's postgres strategy). */
function encodeOffset(lastId: string): string {
  return Buffer.from(JSON.stringify([lastId])).toString("base64");
}

/** Decodes an offset back to the id after which the next page starts; throws `invalid offset` (code 7). */
export function decodeOffset(offset: string): string {
  if (offset === "" || !BASE64_RE.test(offset)) throw invalidOffset(offset, "bad base64 encoding");
  try {
    const decoded: unknown = JSON.parse(Buffer.from(offset, "base64").toString("utf8"));
    if (Array.isArray(decoded) && typeof decoded[0] === "string") return decoded[0];
  } catch {
    // reported below, as Kong does for any undecodable token
  }
  throw invalidOffset(offset, "bad json encoding");
}

/** One page of a list sorted by id, and the offset of the next page when there is one. */
export interface Page {
  readonly data: readonly JsonObject[];
  readonly offset?: string;
}

/** Cuts a page out of entities sorted by id (Kong pages by primary key, so pages stay stable under inserts). */
export function paginate(sorted: readonly JsonObject[], size: number, afterId?: string): Page {
  const rest = afterId === undefined ? sorted : sorted.filter((e) => String(e.id) > afterId);
  const data = rest.slice(0, size);
  const last = data[data.length - 1];
  return rest.length > size && last ? { data, offset: encodeOffset(String(last.id)) } : { data };
}
