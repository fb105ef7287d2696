/**
 * An OpenAPI document (3.x, or Swagger 2.0 in its common shape) as a reference people read: operations
 * grouped by tag with their parameters, request bodies and responses, `$ref`s resolved (cycles cut), the
 * gateway's server and authentication. Pure; the portal API has already rewritten servers and security for
 * the gateway (portal-api/openapi-rewrite.ts).
 */

/** A JSON object of the document. */
export type Json = Record<string, unknown>;

/** Where a parameter goes. */
export type ParameterIn = "path" | "query" | "header" | "cookie";

/** A parameter of an operation. */
export interface Parameter {
  name: string;
  in: ParameterIn;
  required: boolean;
  description?: string;
  schema?: Json;
  example?: unknown;
}

/** The request body of an operation. */
export interface RequestBody {
  contentType: string;
  required: boolean;
  description?: string;
  schema?: Json;
  example?: unknown;
}

/** One response of an operation. */
export interface ResponseView {
  status: string;
  description: string;
  contentType?: string;
  schema?: Json;
}

/** An operation. */
export interface Operation {
  /** A stable id usable in URLs and HTML ids. */
  id: string;
  method: string;
  path: string;
  summary?: string;
  description?: string;
  deprecated: boolean;
  parameters: Parameter[];
  requestBody?: RequestBody;
  responses: ResponseView[];
}

/** How the gateway authenticates calls. */
export type Security =
  | { type: "apiKey"; header: string }
  | { type: "oauth2"; tokenUrl?: string; scopes: string[] }
  | { type: "none" };

/** The reference of a document. */
export interface ApiReference {
  title: string;
  version: string;
  description?: string;
  server?: string;
  security: Security;
  groups: Array<{ tag: string; description?: string; operations: Operation[] }>;
  /** Named schemas (components.schemas / definitions). */
  schemas: Array<{ name: string; schema: Json }>;
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() ? value : undefined;
}

/** Resolves a local `$ref` ("#/components/schemas/Pet"); undefined when it points nowhere. */
export function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The object behind a `$ref` (followed up to 10 times), or the object itself. */
function deref(doc: Json, value: unknown): Json | undefined {
  let node = value;
  for (let i = 0; i < 10 && isObject(node) && typeof node.$ref === "string"; i++) {
    node = resolvePointer(doc, node.$ref);
  }
  return isObject(node) ? node : undefined;
}

/** The name a `$ref` gives a schema ("Pet" for "#/components/schemas/Pet"). */
export function refName(ref: string): string {
  return ref.split("/").pop() ?? ref;
}

/** An id for an operation: its operationId, or method and path, as safe characters. */
export function operationId(method: string, path: string, declared: unknown): string {
  const base = typeof declared === "string" && declared ? declared : `${method}-${path}`;
  return (
    base
      .replace(/[^A-Za-z0-9_-]+/g, "-")
      .replace(/-{2,}/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 80) || `${method}-op`
  );
}

function parameters(doc: Json, list: unknown): Parameter[] {
  if (!Array.isArray(list)) return [];
  const out: Parameter[] = [];
  for (const item of list) {
    const p = deref(doc, item);
    if (!p || typeof p.name !== "string") continue;
    const where = p.in;
    if (where !== "path" && where !== "query" && where !== "header" && where !== "cookie") continue;
    // Swagger 2.0 keeps the type on the parameter itself.
    const schema = isObject(p.schema)
      ? p.schema
      : typeof p.type === "string"
        ? {
            type: p.type,
            ...(Array.isArray(p.enum) ? { enum: p.enum } : {}),
            ...(p.format ? { format: p.format } : {}),
          }
        : undefined;
    out.push({
      name: p.name,
      in: where,
      required: where === "path" ? true : p.required === true,
      ...(text(p.description) ? { description: text(p.description) } : {}),
      ...(schema ? { schema } : {}),
      ...(p.example !== undefined ? { example: p.example } : {}),
    });
  }
  return out;
}

function requestBody(doc: Json, op: Json, swagger: boolean): RequestBody | undefined {
  if (swagger) {
    const body = (Array.isArray(op.parameters) ? op.parameters : [])
      .map((p) => deref(doc, p))
      .find((p) => p?.in === "body");
    if (!body) return undefined;
    const consumes = Array.isArray(op.consumes)
      ? op.consumes
      : Array.isArray(doc.consumes)
        ? doc.consumes
        : [];
    return {
      contentType: typeof consumes[0] === "string" ? consumes[0] : "application/json",
      required: body.required === true,
      ...(text(body.description) ? { description: text(body.description) } : {}),
      ...(isObject(body.schema) ? { schema: body.schema } : {}),
    };
  }
  const body = deref(doc, op.requestBody);
  if (!body || !isObject(body.content)) return undefined;
  const types = Object.keys(body.content);
  const contentType = types.find((t) => t.includes("json")) ?? types[0];
  if (!contentType) return undefined;
  const media = deref(doc, body.content[contentType]) ?? {};
  const examples = isObject(media.examples)
    ? Object.values(media.examples).map((e) => deref(doc, e)?.value)
    : [];
  const example = media.example ?? examples.find((e) => e !== undefined);
  return {
    contentType,
    required: body.required === true,
    ...(text(body.description) ? { description: text(body.description) } : {}),
    ...(isObject(media.schema) ? { schema: media.schema } : {}),
    ...(example !== undefined ? { example } : {}),
  };
}

function responses(doc: Json, op: Json, swagger: boolean): ResponseView[] {
  if (!isObject(op.responses)) return [];
  return Object.entries(op.responses).flatMap(([status, value]) => {
    const r = deref(doc, value);
    if (!r) return [];
    const view: ResponseView = { status, description: text(r.description) ?? "" };
    if (swagger) {
      if (isObject(r.schema)) view.schema = r.schema;
      return [view];
    }
    if (isObject(r.content)) {
      const types = Object.keys(r.content);
      const contentType = types.find((t) => t.includes("json")) ?? types[0];
      if (contentType) {
        view.contentType = contentType;
        const media = deref(doc, r.content[contentType]);
        if (isObject(media?.schema)) view.schema = media.schema;
      }
    }
    return [view];
  });
}

function security(doc: Json, swagger: boolean): Security {
  const schemes = swagger
    ? doc.securityDefinitions
    : isObject(doc.components)
      ? doc.components.securitySchemes
      : undefined;
  if (!isObject(schemes)) return { type: "none" };
  for (const value of Object.values(schemes)) {
    const s = deref(doc, value);
    if (!s) continue;
    if (s.type === "apiKey" && s.in === "header" && typeof s.name === "string")
      return { type: "apiKey", header: s.name };
    if (s.type === "oauth2") {
      const flows = isObject(s.flows) ? Object.values(s.flows).filter(isObject) : [s];
      const tokenUrl = flows.map((f) => f.tokenUrl).find((u): u is string => typeof u === "string");
      const scopes = [...new Set(flows.flatMap((f) => (isObject(f.scopes) ? Object.keys(f.scopes) : [])))];
      return { type: "oauth2", ...(tokenUrl ? { tokenUrl } : {}), scopes };
    }
  }
  return { type: "none" };
}

function server(doc: Json, swagger: boolean): string | undefined {
  if (swagger) {
    if (typeof doc.host !== "string") return undefined;
    const scheme =
      Array.isArray(doc.schemes) && typeof doc.schemes[0] === "string" ? doc.schemes[0] : "https";
    const base = typeof doc.basePath === "string" ? doc.basePath.replace(/\/+$/, "") : "";
    return `${scheme}://${doc.host}${base}`;
  }
  const first = Array.isArray(doc.servers) ? deref(doc, doc.servers[0]) : undefined;
  return typeof first?.url === "string" ? first.url.replace(/\/+$/, "") : undefined;
}

/** The reference of a parsed document. */
export function buildReference(doc: Json): ApiReference {
  const swagger = typeof doc.swagger === "string";
  const info = isObject(doc.info) ? doc.info : {};
  const tagDocs = new Map<string, string | undefined>();
  if (Array.isArray(doc.tags)) {
    for (const t of doc.tags)
      if (isObject(t) && typeof t.name === "string") tagDocs.set(t.name, text(t.description));
  }
  const groups = new Map<string, Operation[]>();
  const seen = new Set<string>();
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(doc, rawItem);
    if (!item) continue;
    const shared = parameters(doc, item.parameters);
    for (const method of METHODS) {
      const op = deref(doc, item[method]);
      if (!op) continue;
      let id = operationId(method, path, op.operationId);
      while (seen.has(id)) id = `${id}-2`;
      seen.add(id);
      const own = parameters(doc, op.parameters);
      const merged = [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own];
      const operation: Operation = {
        id,
        method: method.toUpperCase(),
        path,
        deprecated: op.deprecated === true,
        parameters: merged,
        responses: responses(doc, op, swagger),
      };
      if (text(op.summary)) operation.summary = text(op.summary);
      if (text(op.description)) operation.description = text(op.description);
      const body = requestBody(doc, op, swagger);
      if (body) operation.requestBody = body;
      const tags = Array.isArray(op.tags) && typeof op.tags[0] === "string" ? op.tags : ["Operations"];
      const tag = String(tags[0]);
      groups.set(tag, [...(groups.get(tag) ?? []), operation]);
    }
  }
  const order = [...tagDocs.keys()];
  const sortedTags = [...groups.keys()].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || a.localeCompare(b);
  });
  const schemaSource = swagger
    ? doc.definitions
    : isObject(doc.components)
      ? doc.components.schemas
      : undefined;
  const reference: ApiReference = {
    title: text(info.title) ?? "API",
    version: typeof info.version === "string" ? info.version : "",
    security: security(doc, swagger),
    groups: sortedTags.map((tag) => ({
      tag,
      ...(tagDocs.get(tag) ? { description: tagDocs.get(tag) } : {}),
      operations: groups.get(tag) ?? [],
    })),
    schemas: isObject(schemaSource)
      ? Object.entries(schemaSource).flatMap(([name, schema]) => (isObject(schema) ? [{ name, schema }] : []))
      : [],
  };
  if (text(info.description)) reference.description = text(info.description);
  const base = server(doc, swagger);
  if (base) reference.server = base;
  return reference;
}

/** Finds an operation by id. */
export function findOperation(reference: ApiReference, id: string): Operation | undefined {
  for (const group of reference.groups) {
    const found = group.operations.find((o) => o.id === id);
    if (found) return found;
  }
  return undefined;
}

/** A small example value for a schema (for the try-it form's body), following `$ref`s to a depth. */
export function exampleFor(doc: Json, schema: Json | undefined, depth = 0): unknown {
  if (!schema || depth > 5) return null;
  const s = deref(doc, schema) ?? {};
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const composed = [s.allOf, s.oneOf, s.anyOf].find(Array.isArray) as unknown[] | undefined;
  if (composed) {
    if (s.allOf) {
      return Object.assign(
        {},
        ...composed.map((part) => exampleFor(doc, deref(doc, part), depth + 1)).filter(isObject),
      );
    }
    return exampleFor(doc, deref(doc, composed[0]), depth + 1);
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "object":
    case undefined: {
      if (!isObject(s.properties)) return type === "object" ? {} : null;
      return Object.fromEntries(
        Object.entries(s.properties).map(([key, value]) => [
          key,
          exampleFor(doc, deref(doc, value), depth + 1),
        ]),
      );
    }
    case "array":
      return [exampleFor(doc, deref(doc, s.items), depth + 1)];
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return true;
    case "string":
      return s.format === "date-time"
        ? "2025-01-01T00:00:00Z"
        : s.format === "email"
          ? "jane@example.com"
          : "string";
    default:
      return null;
  }
}
