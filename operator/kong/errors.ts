/**
 * Kong's refusals turned into messages a user can act on, attributed to the resource that owns the entity and
 * to the spec field that needs to change. Kong's 409 and 400 bodies name the offending fields (`fields`);
 * the messages quote them concretely. Credentials are never quoted: errors about them name the owner only.
 * Pure.
 */
import { KongAdminError } from "./admin-client.ts";
import { RetriesExhaustedError } from "./retry.ts";
import type { EntityOrigin, KongCollection, KongStateEntity } from "./state.ts";
import { describeResource, type ResourceRef } from "./tags.ts";

/** Why an entity could not be programmed; CamelCase, usable as a condition reason. */
export type KongSyncErrorReason =
  /** Kong's 409: a name, key or plugin scope is taken by an entity wicked does not manage. */
  | "KongConflict"
  /** Kong's 400: Kong refused the fields (schema violation, unknown plugin, …). */
  | "KongInvalid"
  /** An entity this one depends on (a service, a consumer) could not be programmed. */
  | "DependencyNotProgrammed"
  /** No answer from the Admin API after every retry (refused connection, timeout). */
  | "KongUnreachable"
  /** 5xx from the Admin API after every retry. */
  | "KongUnavailable"
  /** Kong refused wicked's admin credentials (401, 403). */
  | "KongUnauthorized"
  /** Any other refusal. */
  | "KongRefused";

/** One entity that could not be programmed, with a message for the owning resource's status. */
export interface KongSyncError {
  /** The resource owning the entity; absent for an entity in Kong without an owner tag. */
  readonly owner?: ResourceRef;
  /** Where the fields come from (may be another resource than the owner, e.g. a Plan's rate limits). */
  readonly origin?: EntityOrigin;
  readonly collection: KongCollection;
  readonly action: "create" | "update" | "delete";
  /** The entity's label: names no secret. */
  readonly entity: string;
  readonly reason: KongSyncErrorReason;
  /** The HTTP status of Kong's last answer; 0 when it did not answer. */
  readonly status: number;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

/** What the explanation needs to know about the failed write. */
export interface FailedWrite {
  readonly action: "create" | "update" | "delete";
  readonly entity: KongStateEntity;
  readonly error: unknown;
  /** Finds a desired or actual entity by id, to name a missing dependency. */
  lookup(id: string): KongStateEntity | undefined;
}

const NOUNS: { readonly [c in KongCollection]: string } = {
  services: "service",
  routes: "route",
  consumers: "consumer",
  acls: "ACL entry",
  "key-auths": "key-auth credential",
  jwts: "jwt credential",
  plugins: "plugin",
};

type FieldsBody = { code?: unknown; name?: unknown; message?: unknown; fields?: unknown };

function bodyOf(err: KongAdminError): FieldsBody {
  return typeof err.body === "object" && err.body !== null ? (err.body as FieldsBody) : {};
}

function fieldsOf(body: FieldsBody): Record<string, unknown> {
  return typeof body.fields === "object" && body.fields !== null
    ? (body.fields as Record<string, unknown>)
    : {};
}

function ownerText(entity: KongStateEntity): string {
  return entity.owner ? describeResource(entity.owner) : "no wicked resource";
}

function fixWhere(origin: EntityOrigin | undefined): string {
  return origin ? `${origin.field} of ${describeResource(origin.resource)}` : "the resource";
}

function valueText(value: unknown): string {
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  if (typeof value === "string") return value.startsWith("/") ? value : `"${value}"`;
  return JSON.stringify(value);
}

/** Kong's nested field errors as `path: message` pairs (`config.origins[0]: expected a string`). */
export function flattenFieldErrors(errors: unknown, prefix = ""): string[] {
  if (typeof errors === "string") return [prefix === "" ? errors : `${prefix}: ${errors}`];
  if (Array.isArray(errors)) {
    return errors.flatMap((e, i) =>
      e === null
        ? []
        : prefix === "@entity"
          ? flattenFieldErrors(e, "")
          : flattenFieldErrors(e, `${prefix}[${i}]`),
    );
  }
  if (typeof errors === "object" && errors !== null) {
    return Object.entries(errors).flatMap(([k, v]) =>
      flattenFieldErrors(v, k === "@entity" ? "@entity" : prefix === "" ? k : `${prefix}.${k}`),
    );
  }
  return [];
}

/** Spec path of a Kong field error, where the mapping is known (`config.minute` → `spec.rateLimits.minute`). */
function specPath(entity: KongStateEntity, kongPath: string): string {
  const origin = entity.origin;
  if (!origin) return kongPath;
  if (entity.collection === "plugins" && kongPath.startsWith("config.")) {
    const rest = kongPath.slice("config.".length);
    return origin.field === "spec.rateLimits" ? `${origin.field}.${rest}` : `${origin.field}.config.${rest}`;
  }
  if (entity.collection === "routes" && /^(paths|hosts|methods)\b/.test(kongPath)) {
    return `${origin.field}.${kongPath}`;
  }
  return kongPath;
}

function conflictMessage(entity: KongStateEntity, body: FieldsBody): string {
  const fields = fieldsOf(body);
  const names = Object.keys(fields);
  const on = `UNIQUE violation on ${names.join(", ") || "an unknown field"}`;
  const owner = ownerText(entity);
  if (entity.collection === "key-auths") {
    return `the API key of ${owner} is already used by another Kong consumer (${on}); rotate the subscription's credentials (spec.credentials.rotation) or put another key in its Secret`;
  }
  if (entity.collection === "jwts") {
    return `the OAuth2 client id of ${owner} is already the key of another jwt credential in Kong (${on}); every Subscription needs its own client id: remove the other credential or issue new credentials`;
  }
  if (entity.collection === "plugins" && names.includes("name")) {
    const plugin = typeof entity.fields.name === "string" ? entity.fields.name : "";
    const scope = ["service", "route", "consumer"].filter(
      (k) => fields[k] !== null && fields[k] !== undefined,
    );
    return `another "${plugin}" plugin, not managed by wicked, is already configured on the same ${scope.join(" and ") || "scope"} in Kong (${on}); remove that plugin from Kong, or remove it from ${fixWhere(entity.origin)}`;
  }
  const noun = NOUNS[entity.collection];
  const subject = names
    .map((f) => `${noun} ${f === "paths" ? "path" : f} ${valueText(fields[f])}`)
    .join(" and ");
  const routing = entity.collection === "routes" && names.some((f) => ["paths", "hosts"].includes(f));
  const fix = routing
    ? `change ${fixWhere(entity.origin)}, or remove the other route from Kong`
    : `delete or rename the other ${noun} in Kong, which wicked does not manage`;
  return `${subject} of ${owner} is already used by another ${noun} in Kong (${on}); ${fix}`;
}

function invalidMessage(entity: KongStateEntity, body: FieldsBody, lookup: FailedWrite["lookup"]): string {
  const fields = fieldsOf(body);
  const code = body.code;
  if (code === 4 || code === 13) {
    const referencedBy = fields["@referenced_by"];
    if (typeof referencedBy === "string") {
      const child = referencedBy.replace(/s$/, "");
      return `the ${entity.label} cannot be deleted: a ${child} that wicked does not manage still refers to it in Kong; delete that ${child} in Kong or point it elsewhere`;
    }
    const missing = Object.values(fields)
      .map((v) => (typeof v === "object" && v !== null ? (v as { id?: unknown }).id : undefined))
      .find((id): id is string => typeof id === "string");
    const dependency = missing ? lookup(missing) : undefined;
    return dependency
      ? `the ${entity.label} needs the ${dependency.label}, which is not in Kong; it is programmed once ${ownerText(dependency)} is`
      : `the ${entity.label} refers to a Kong entity that does not exist; it is programmed once what it depends on is`;
  }
  const pluginName = fields.name;
  if (
    entity.collection === "plugins" &&
    typeof pluginName === "string" &&
    pluginName.includes("not enabled")
  ) {
    return `plugin "${String(entity.fields.name)}" of ${ownerText(entity)} is not enabled in Kong; enable it in Kong's plugins setting (KONG_PLUGINS) or remove it from ${fixWhere(entity.origin)}`;
  }
  if (entity.collection === "plugins" && fields.consumer === "value must be null") {
    return `plugin "${String(entity.fields.name)}" cannot be applied per consumer in Kong (consumer: value must be null); remove it from ${fixWhere(entity.origin)}`;
  }
  if (entity.sensitive) {
    return `Kong refused the ${entity.label} (invalid ${Object.keys(fields).join(", ") || "fields"}); issue new credentials`;
  }
  const problems = flattenFieldErrors(fields).map((p) => {
    const colon = p.indexOf(": ");
    return colon > 0 && !p.startsWith("@")
      ? `${specPath(entity, p.slice(0, colon))}: ${p.slice(colon + 2)}`
      : p;
  });
  const detail = problems.length > 0 ? problems.join("; ") : String(body.message ?? "schema violation");
  return `Kong refused the ${entity.label}: ${detail}; fix ${fixWhere(entity.origin)}`;
}

function reasonAndMessage(failed: FailedWrite): {
  reason: KongSyncErrorReason;
  status: number;
  message: string;
} {
  const { entity, error } = failed;
  if (!(error instanceof KongAdminError)) {
    return {
      reason: "KongRefused",
      status: 0,
      message: `programming the ${entity.label} failed: ${String(error)}`,
    };
  }
  const status = error.status;
  const body = bodyOf(error);
  if (error instanceof RetriesExhaustedError) {
    const while_ = `while programming the ${entity.label}; wicked retries on the next sync`;
    return status === 0
      ? {
          reason: "KongUnreachable",
          status,
          message: `${error.last.message} after ${error.attempts} attempts ${while_}; check the gateway's adminUrl and network policies`,
        }
      : {
          reason: "KongUnavailable",
          status,
          message: `Kong answered ${status} after ${error.attempts} attempts ${while_}`,
        };
  }
  if (status === 0) {
    return {
      reason: "KongUnreachable",
      status,
      message: `${error.message} while programming the ${entity.label}`,
    };
  }
  if (status === 409) return { reason: "KongConflict", status, message: conflictMessage(entity, body) };
  if (status === 400)
    return { reason: "KongInvalid", status, message: invalidMessage(entity, body, failed.lookup) };
  if (status === 401 || status === 403) {
    return {
      reason: "KongUnauthorized",
      status,
      message: `Kong's Admin API refused wicked's credentials (${status}); check the admin token of the ApiPortal's gateway`,
    };
  }
  if (status === 405 && body.code === 12) {
    return {
      reason: "KongRefused",
      status,
      message:
        "Kong runs without a database (DB-less) and refuses entity writes; wicked needs Kong in DB mode",
    };
  }
  const kongMessage = !entity.sensitive && typeof body.message === "string" ? `: ${body.message}` : "";
  return {
    reason: "KongRefused",
    status,
    message: `Kong answered ${status} for the ${entity.label}${kongMessage}`,
  };
}

/** The error a status reports for a failed write, with a message saying what to change. */
export function explainFailure(failed: FailedWrite): KongSyncError {
  const { entity, action } = failed;
  return {
    ...(entity.owner ? { owner: entity.owner } : {}),
    ...(entity.origin ? { origin: entity.origin } : {}),
    collection: entity.collection,
    action,
    entity: entity.label,
    ...reasonAndMessage(failed),
  };
}

/** The error of an entity not attempted because one it depends on failed or was not attempted. */
export function dependencyNotProgrammed(
  action: "create" | "update",
  entity: KongStateEntity,
  dependency: KongStateEntity,
): KongSyncError {
  return {
    ...(entity.owner ? { owner: entity.owner } : {}),
    ...(entity.origin ? { origin: entity.origin } : {}),
    collection: entity.collection,
    action,
    entity: entity.label,
    reason: "DependencyNotProgrammed",
    status: 0,
    message: `the ${entity.label} waits for the ${dependency.label}, which could not be programmed`,
  };
}
