// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// The double's database: entities in memory with Kong's validation, uniqueness, foreign keys and cascades.
import { randomUUID } from "node:crypto";
import { type Clock, epochSeconds } from "./clock.ts";
import { ENTITIES, type EntityDef, type EntityName, entityByName, generateValue } from "./entities.ts";
import { cloneJson, isJsonObject, type Json, type JsonObject } from "./json.ts";
import {
  type FieldErrors,
  foreignKeyUnresolved,
  foreignKeyViolation,
  primaryKeyViolation,
  referencedByOthers,
  schemaViolation,
  uniqueViolation,
} from "./kong-errors.ts";
import { type Field, type Fields, isUuid, validateRecord, validateValue } from "./schema.ts";

/** A foreign key between two entities, as found in the entity definitions. */
interface Relation {
  readonly child: EntityDef;
  readonly field: string;
  readonly cascade: boolean;
}

function staticFields(def: EntityDef): Fields {
  const resolved = def.fields({});
  return "fields" in resolved ? resolved.fields : {};
}

function relationsTo(parent: EntityName): Relation[] {
  return Object.values(ENTITIES).flatMap((child) =>
    Object.entries(staticFields(child)).flatMap(([field, f]) =>
      f.type === "foreign" && f.reference === parent
        ? [{ child, field, cascade: f.onDelete === "cascade" }]
        : [],
    ),
  );
}

function refId(value: Json | undefined): string | undefined {
  return isJsonObject(value) && typeof value.id === "string" ? value.id : undefined;
}

function mergePatch(fields: Fields, current: JsonObject, patch: JsonObject): JsonObject {
  const merged: JsonObject = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    const field: Field | undefined = fields[key];
    const old = current[key];
    const deep = field?.type === "record" || field?.type === "any";
    if (deep && isJsonObject(old) && isJsonObject(value)) {
      merged[key] = mergePatch(field.type === "record" ? field.fields : {}, old, value);
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

/** Fields the store fills itself; ignored in request bodies (except a given `id` on create). */
const AUTO_FIELDS = ["id", "created_at", "updated_at"];

/**
 * One kind's rows with the indexes the Admin API needs, so that no write or lookup scans the table: the rows
 * sorted by id (rebuilt only after a change), each unique field and the cache key by value, and the rows
 * referring to each parent by foreign field.
 */
class Table {
  readonly rows = new Map<string, JsonObject>();
  private sorted: JsonObject[] | undefined;
  private readonly unique = new Map<string, Map<string, string>>();
  private readonly refs = new Map<string, Map<string, Set<string>>>();

  constructor(private readonly def: EntityDef) {
    for (const field of [...def.unique, ...(def.cacheKey ? [CACHE_KEY] : [])])
      this.unique.set(field, new Map());
    for (const [field, f] of Object.entries(staticFields(def)))
      if (f.type === "foreign") this.refs.set(field, new Map());
  }

  list(): readonly JsonObject[] {
    this.sorted ??= [...this.rows.values()].sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
    return this.sorted;
  }

  /** The id of the row holding `value` in a unique field (or the cache key), if any. */
  idBy(field: string, value: Json): string | undefined {
    return this.unique.get(field)?.get(indexKey(value));
  }

  /** The ids of the rows whose foreign `field` refers to `parentId`. */
  referring(field: string, parentId: string): string[] {
    return [...(this.refs.get(field)?.get(parentId) ?? [])];
  }

  cacheKeyOf(row: JsonObject): Json {
    return (this.def.cacheKey ?? []).map((k) => row[k] ?? null);
  }

  set(row: JsonObject): void {
    const id = String(row.id);
    this.delete(id);
    this.rows.set(id, row);
    this.index(id, row, (map, key) => map.set(key, id));
    this.sorted = undefined;
  }

  delete(id: string): void {
    const row = this.rows.get(id);
    if (!row) return;
    this.rows.delete(id);
    this.index(id, row, (map, key) => map.get(key) === id && map.delete(key));
    for (const [field, byParent] of this.refs) {
      const parent = refId(row[field]);
      if (parent !== undefined) byParent.get(parent)?.delete(id);
    }
    this.sorted = undefined;
  }

  clear(): void {
    this.rows.clear();
    for (const map of this.unique.values()) map.clear();
    for (const map of this.refs.values()) map.clear();
    this.sorted = undefined;
  }

  private index(id: string, row: JsonObject, apply: (map: Map<string, string>, key: string) => void): void {
    for (const [field, map] of this.unique) {
      const value = field === CACHE_KEY ? this.cacheKeyOf(row) : row[field];
      if (value !== null && value !== undefined) apply(map, indexKey(value));
    }
    if (!this.rows.has(id)) return;
    for (const [field, byParent] of this.refs) {
      const parent = refId(row[field]);
      if (parent === undefined) continue;
      const ids = byParent.get(parent) ?? new Set<string>();
      ids.add(id);
      byParent.set(parent, ids);
    }
  }
}

/** The pseudo-field under which a table indexes its cache key. */
const CACHE_KEY = "\u0000cache_key";

function indexKey(value: Json): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** In-memory tables of Kong entities, enforcing the Admin API contract on every write. */
export class KongStore {
  private readonly tables = new Map<EntityName, Table>();

  /** Creates an empty store whose timestamps come from `clock`. */
  constructor(private readonly clock: Clock) {
    for (const def of Object.values(ENTITIES)) this.tables.set(def.name, new Table(def));
  }

  private table(name: EntityName): Table {
    const table = this.tables.get(name);
    if (!table) throw new Error(`unknown entity ${name}`);
    return table;
  }

  /** Every entity of a kind, sorted by id as Kong pages them (shared: do not change it). */
  list(name: EntityName): readonly JsonObject[] {
    return this.table(name).list();
  }

  /** The entity with this id. */
  byId(name: EntityName, id: string): JsonObject | undefined {
    return this.table(name).rows.get(id.toLowerCase());
  }

  /** The entity holding `value` in one of its unique fields. */
  byUnique(name: EntityName, field: string, value: Json): JsonObject | undefined {
    const id = this.table(name).idBy(field, value);
    return id === undefined ? undefined : this.byId(name, id);
  }

  /** The entity named by a path segment: an id when it is a UUID, else the endpoint key (name, username, key). */
  find(def: EntityDef, key: string): JsonObject | undefined {
    if (isUuid(key)) return this.byId(def.name, key);
    return def.endpointKey ? this.byUnique(def.name, def.endpointKey, key) : undefined;
  }

  /** Removes every entity. */
  clear(): void {
    for (const table of this.tables.values()) table.clear();
  }

  /** POST: validates and stores a new entity; `forced` fields (the parent of a nested path) override the body. */
  insert(def: EntityDef, input: JsonObject, forced: JsonObject = {}): JsonObject {
    const givenId = input.id;
    const values = this.prepare(
      def,
      { ...input, ...forced },
      typeof givenId === "string" ? givenId : undefined,
    );
    const now = epochSeconds(this.clock);
    const id = typeof givenId === "string" ? givenId.toLowerCase() : randomUUID();
    if (this.byId(def.name, id)) throw primaryKeyViolation(id);
    return this.save(def, this.row(def, id, now, now, values));
  }

  /**
   * PUT: creates or replaces the entity named by `key` (an id or the endpoint key, which wins over the body).
   * `existing` is the entity the caller already resolved for `key`, when it looked it up in a narrower scope.
   */
  upsert(
    def: EntityDef,
    key: string,
    input: JsonObject,
    forced: JsonObject = {},
    existing: JsonObject | undefined = this.find(def, key),
  ): JsonObject {
    const body: JsonObject = { ...input, ...forced };
    if (!isUuid(key) && def.endpointKey) body[def.endpointKey] = key;
    delete body.id;
    const values = this.prepare(def, body);
    const now = epochSeconds(this.clock);
    const id = existing ? String(existing.id) : isUuid(key) ? key.toLowerCase() : randomUUID();
    const createdAt = typeof existing?.created_at === "number" ? existing.created_at : now;
    return this.save(def, this.row(def, id, createdAt, now, values));
  }

  /** PATCH: merges `patch` into an existing entity (records such as plugin `config` are merged deeply). */
  update(def: EntityDef, existing: JsonObject, patch: JsonObject, forced: JsonObject = {}): JsonObject {
    const expanded = def.expand ? def.expand(patch) : { input: patch };
    const current = Object.fromEntries(Object.entries(existing).filter(([k]) => !AUTO_FIELDS.includes(k)));
    const body = { ...expanded.input, ...forced };
    for (const k of AUTO_FIELDS) delete body[k];
    const resolved = def.fields({ ...current, ...body });
    const merged = mergePatch("fields" in resolved ? resolved.fields : {}, current, body);
    const values = this.prepare(def, merged, undefined, expanded.errors);
    const createdAt =
      typeof existing.created_at === "number" ? existing.created_at : epochSeconds(this.clock);
    return this.save(def, this.row(def, String(existing.id), createdAt, epochSeconds(this.clock), values));
  }

  /** DELETE: removes an entity and, as Kong's cascades do, what belongs to it; refuses while restricted children exist. */
  delete(def: EntityDef, entity: JsonObject): void {
    const id = String(entity.id);
    const relations = relationsTo(def.name);
    for (const relation of relations) {
      if (relation.cascade) continue;
      if (this.table(relation.child.name).referring(relation.field, id).length > 0) {
        throw referencedByOthers(def.name, relation.child.name);
      }
    }
    this.table(def.name).delete(id);
    for (const relation of relations.filter((r) => r.cascade)) {
      const children = this.table(relation.child.name);
      for (const childId of children.referring(relation.field, id)) {
        const child = children.rows.get(childId);
        if (child) this.delete(relation.child, child);
      }
    }
  }

  private row(
    def: EntityDef,
    id: string,
    createdAt: number,
    updatedAt: number,
    values: JsonObject,
  ): JsonObject {
    return def.updatedAt
      ? { id, created_at: createdAt, updated_at: updatedAt, ...values }
      : { id, created_at: createdAt, ...values };
  }

  /** Validates a body into the stored shape: every field present, defaults and generated values filled in. */
  private prepare(def: EntityDef, raw: JsonObject, givenId?: string, earlier?: FieldErrors): JsonObject {
    const expanded = def.expand ? def.expand(raw) : { input: raw };
    const input = { ...expanded.input };
    for (const k of AUTO_FIELDS) delete input[k];
    const resolved = def.fields(input);
    if ("nameError" in resolved) throw schemaViolation({ name: resolved.nameError });
    const fields = resolved.fields;
    const errors: FieldErrors = { ...earlier, ...expanded.errors };
    if (givenId !== undefined && !isUuid(givenId)) errors.id = "expected a valid UUID";
    this.resolveForeignKeys(fields, input, errors);
    const result = validateRecord(fields, input);
    Object.assign(errors, result.errors);
    def.check?.(result.value, errors);
    if (Object.keys(errors).length > 0) throw schemaViolation(errors);
    const values = result.value;
    for (const field of def.generated ?? []) {
      if (values[field] === null) values[field] = generateValue();
    }
    return values;
  }

  /** Replaces `{"name": "x"}`-style references by `{"id": …}`, as Kong's DAO does before validating. */
  private resolveForeignKeys(fields: Fields, input: JsonObject, errors: FieldErrors): void {
    for (const [name, field] of Object.entries(fields)) {
      const value = input[name];
      if (field.type !== "foreign" || !isJsonObject(value) || value.id !== undefined) continue;
      const parent = entityByName(field.reference);
      if (!parent) continue;
      const parentFields = staticFields(parent);
      for (const uniqueField of parent.unique) {
        const wanted = value[uniqueField];
        const fieldDef = parentFields[uniqueField];
        if (wanted === undefined || wanted === null || !fieldDef) continue;
        const check = validateValue(fieldDef, wanted);
        if (check.error !== undefined) {
          errors[name] = { [uniqueField]: check.error };
          break;
        }
        const match = this.byUnique(parent.name, uniqueField, wanted);
        if (!match) throw foreignKeyUnresolved(name, uniqueField, wanted, parent.name);
        input[name] = { id: String(match.id) };
        break;
      }
    }
  }

  private save(def: EntityDef, row: JsonObject): JsonObject {
    const fields = staticFields(def);
    for (const [name, field] of Object.entries(fields)) {
      const id = refId(row[name]);
      if (field.type !== "foreign" || id === undefined) continue;
      const parent = entityByName(field.reference);
      if (!parent || !this.byId(parent.name, id)) throw foreignKeyViolation(name, { id }, field.reference);
    }
    const table = this.table(def.name);
    const taken = (field: string, value: Json) => {
      const holder = table.idBy(field, value);
      return holder !== undefined && holder !== row.id;
    };
    for (const field of def.unique) {
      const value = row[field];
      if (value !== null && value !== undefined && taken(field, value)) {
        throw uniqueViolation({ [field]: value });
      }
    }
    const cacheKey = def.cacheKey;
    if (cacheKey && taken(CACHE_KEY, table.cacheKeyOf(row))) {
      throw uniqueViolation(Object.fromEntries(cacheKey.map((k) => [k, row[k] ?? null])));
    }
    table.set(cloneJson(row));
    return cloneJson(row);
  }
}
