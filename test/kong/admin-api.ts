// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The Admin API routes of the double: collections, entities and the nested paths Kong generates from foreign
// keys (kong/api/endpoints.lua), answering with Kong 3.x status codes and bodies.
import { ENTITIES, type EntityDef, entityByAdminName } from "./entities.ts";
import type { Json, JsonObject } from "./json.ts";
import { KongError, methodNotAllowed, notFound } from "./kong-errors.ts";
import { decodeOffset, matchesTags, paginate, parsePageSize, parseTagFilter } from "./pagination.ts";
import { isUuid } from "./schema.ts";
import type { KongStore } from "./store.ts";

/** A parsed Admin API request. */
export interface AdminRequest {
  readonly method: string;
  readonly url: URL;
  /** The JSON body of POST, PUT and PATCH (an empty body is `{}`). */
  readonly body: JsonObject;
}

/** An Admin API answer: status and JSON body (none for 204). */
export interface AdminResponse {
  readonly status: number;
  readonly body?: Json;
}

/** What the routes need besides the store: the bodies of `GET /` and `GET /status`. */
export interface AdminContext {
  readonly store: KongStore;
  nodeInfo(): JsonObject;
  nodeStatus(): JsonObject;
  /** Told about failures that are bugs of the double rather than Kong errors (answered with a 500). */
  onUnexpected(err: unknown): void;
}

/** The parent of a nested path: `/services/{s}/routes` scopes routes to service `s`. */
interface Scope {
  readonly parentDef: EntityDef;
  readonly parent: JsonObject;
  /** The foreign field of the child that points at the parent. */
  readonly field: string;
}

const PLUGIN_PARENTS: { readonly [adminName: string]: string } = {
  services: "service",
  routes: "route",
  consumers: "consumer",
};

function belongsTo(entity: JsonObject, scope: Scope | undefined): boolean {
  if (!scope) return true;
  const ref = entity[scope.field];
  return typeof ref === "object" && ref !== null && !Array.isArray(ref) && ref.id === scope.parent.id;
}

function forcedParent(scope: Scope | undefined): JsonObject {
  return scope ? { [scope.field]: { id: String(scope.parent.id) } } : {};
}

function listPath(def: EntityDef, scope: Scope | undefined): string {
  if (!scope) return `/${def.adminName}`;
  const nested = scope.parentDef.name === "consumers" && def.nestedName ? def.nestedName : def.adminName;
  return `/${scope.parentDef.adminName}/${String(scope.parent.id)}/${nested}`;
}

function listCollection(
  ctx: AdminContext,
  def: EntityDef,
  url: URL,
  scope: Scope | undefined,
): AdminResponse {
  const query = url.searchParams;
  const customId = query.get("custom_id");
  if (def.name === "consumers" && customId !== null && !scope) {
    const match = ctx.store.byUnique("consumers", "custom_id", customId);
    return { status: 200, body: { data: match ? [match] : [], next: null } };
  }
  const size = parsePageSize(query.get("size"));
  const rawTags = query.get("tags");
  const filter = rawTags === null ? undefined : parseTagFilter(rawTags);
  const rawOffset = query.get("offset");
  const after = rawOffset === null ? undefined : decodeOffset(rawOffset);
  const rows = ctx.store
    .list(def.name)
    .filter((e) => belongsTo(e, scope) && (filter === undefined || matchesTags(e, filter)));
  const page = paginate(rows, size, after);
  if (page.offset === undefined) return { status: 200, body: { data: [...page.data], next: null } };
  const tagSuffix = rawTags !== null && !scope ? `&tags=${rawTags}` : "";
  return {
    status: 200,
    body: {
      data: [...page.data],
      next: `${listPath(def, scope)}?offset=${encodeURIComponent(page.offset)}${tagSuffix}`,
      offset: page.offset,
    },
  };
}

function collection(ctx: AdminContext, req: AdminRequest, def: EntityDef, scope?: Scope): AdminResponse {
  if (req.method === "GET") return listCollection(ctx, def, req.url, scope);
  if (req.method === "POST")
    return { status: 201, body: ctx.store.insert(def, req.body, forcedParent(scope)) };
  throw methodNotAllowed();
}

function findInScope(
  ctx: AdminContext,
  def: EntityDef,
  key: string,
  scope: Scope | undefined,
): JsonObject | undefined {
  if (def.name === "acls" && scope && !isUuid(key)) {
    return ctx.store.list("acls").find((a) => a.group === key && belongsTo(a, scope));
  }
  const entity = ctx.store.find(def, key);
  return entity && belongsTo(entity, scope) ? entity : undefined;
}

function entity(
  ctx: AdminContext,
  req: AdminRequest,
  def: EntityDef,
  key: string,
  scope?: Scope,
): AdminResponse {
  const existing = findInScope(ctx, def, key, scope);
  switch (req.method) {
    case "GET":
      if (!existing) throw notFound();
      return { status: 200, body: existing };
    case "PUT": {
      const forced = forcedParent(scope);
      if (def.name === "acls" && !isUuid(key)) {
        const body = { ...req.body, group: key };
        if (!existing) return { status: 200, body: ctx.store.insert(def, body, forced) };
        return { status: 200, body: ctx.store.upsert(def, String(existing.id), body, forced, existing) };
      }
      return { status: 200, body: ctx.store.upsert(def, key, req.body, forced, existing) };
    }
    case "PATCH":
      if (!existing) throw notFound();
      return { status: 200, body: ctx.store.update(def, existing, req.body, forcedParent(scope)) };
    case "DELETE":
      if (existing) ctx.store.delete(def, existing);
      else if (scope && ctx.store.find(def, key)) throw notFound();
      return { status: 204 };
    default:
      throw methodNotAllowed();
  }
}

function scopeFor(ctx: AdminContext, parentDef: EntityDef, key: string, field: string): Scope {
  const parent = ctx.store.find(parentDef, key);
  if (!parent) throw notFound();
  return { parentDef, parent, field };
}

function nested(ctx: AdminContext, req: AdminRequest, segments: readonly string[]): AdminResponse {
  const [parentName = "", parentKey = "", childName = "", childKey] = segments;
  const parentDef = entityByAdminName(parentName);
  if (!parentDef) throw notFound();
  let childDef: EntityDef | undefined;
  let field = "";
  if (parentName === "services" && childName === "routes") {
    childDef = ENTITIES.routes;
    field = "service";
  } else if (childName === "plugins" && PLUGIN_PARENTS[parentName]) {
    childDef = ENTITIES.plugins;
    field = PLUGIN_PARENTS[parentName] ?? "";
  } else if (parentName === "consumers") {
    childDef = Object.values(ENTITIES).find((d) => d.nestedName === childName);
    field = "consumer";
  } else if (parentName === "routes" && childName === "service" && childKey === undefined) {
    if (req.method !== "GET") throw methodNotAllowed();
    const route = ctx.store.find(parentDef, parentKey);
    const serviceId = route?.service;
    const service =
      typeof serviceId === "object" &&
      serviceId !== null &&
      !Array.isArray(serviceId) &&
      typeof serviceId.id === "string"
        ? ctx.store.byId("services", serviceId.id)
        : undefined;
    if (!service) throw notFound();
    return { status: 200, body: service };
  }
  if (!childDef) throw notFound();
  const scope = scopeFor(ctx, parentDef, parentKey, field);
  return childKey === undefined
    ? collection(ctx, req, childDef, scope)
    : entity(ctx, req, childDef, childKey, scope);
}

/** Answers one Admin API request; Kong errors become their status and body, anything else a 500. */
export function handleAdminRequest(ctx: AdminContext, req: AdminRequest): AdminResponse {
  try {
    const segments = req.url.pathname
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
    if (segments.length === 0 || (segments.length === 1 && segments[0] === "status")) {
      if (req.method !== "GET") throw methodNotAllowed();
      return { status: 200, body: segments.length === 0 ? ctx.nodeInfo() : ctx.nodeStatus() };
    }
    if (segments.length > 4) throw notFound();
    if (segments.length >= 3) return nested(ctx, req, segments);
    const def = entityByAdminName(segments[0] ?? "");
    if (!def) throw notFound();
    const key = segments[1];
    return key === undefined ? collection(ctx, req, def) : entity(ctx, req, def, key);
  } catch (err) {
    if (err instanceof KongError) return { status: err.status, body: err.body };
    ctx.onUnexpected(err);
    return { status: 500, body: { message: "An unexpected error occurred" } };
  }
}
