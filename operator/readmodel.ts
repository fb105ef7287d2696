/**
 * The portal's read model: one row per Api, Plan, ApiClient and Subscription, keyed by the resource's UID,
 * written only by the operator. Upserts are idempotent; a row is removed with its resource. A resource
 * recreated under the same name replaces the old row.
 */
import { createHash } from "node:crypto";
import { type Kysely, sql } from "kysely";
import {
  type Api,
  type ApiClient,
  currentDecision,
  type Plan,
  type Subscription,
} from "../api/v1alpha1/index.ts";
import type { Database } from "../db/schema.ts";

type Resource = Api | Plan | ApiClient | Subscription;
type Table = "apis" | "plans" | "clients" | "subscriptions";

function common(r: Resource, portal: string) {
  return {
    uid: r.metadata.uid ?? "",
    namespace: r.metadata.namespace ?? "",
    name: r.metadata.name ?? "",
    portal,
    generation: r.metadata.generation ?? 0,
    resource_version: r.metadata.resourceVersion ?? "",
    spec: JSON.stringify(r.spec),
  };
}

/** The row of an Api. */
export function apiRow(api: Api, portal: string) {
  return {
    ...common(api, portal),
    display_name: api.spec.displayName,
    description: api.spec.description ?? "",
    auth: api.spec.auth?.type ?? "key-auth",
    required_group: api.spec.requiredGroup ?? null,
    plans: api.spec.plans ?? [],
    tags: api.spec.tags ?? [],
    deprecated: api.spec.deprecation !== undefined,
  };
}

/** The row of a Plan. */
export function planRow(plan: Plan, portal: string) {
  return {
    ...common(plan, portal),
    display_name: plan.spec.displayName,
    description: plan.spec.description ?? "",
    limits: JSON.stringify(plan.spec.rateLimits ?? {}),
    requires_approval: plan.spec.requiresApproval ?? false,
    required_group: plan.spec.requiredGroup ?? null,
  };
}

/** The row of an ApiClient. */
export function clientRow(client: ApiClient, portal: string) {
  return {
    ...common(client, portal),
    display_name: client.spec.displayName,
    owner: client.spec.owner,
    client_type: client.spec.clientType ?? "confidential",
    client_id: client.status?.clientId ?? null,
  };
}

/** The row of a Subscription; the owner is the owner of its ApiClient. */
export function subscriptionRow(sub: Subscription, portal: string, owner: string) {
  const decision = currentDecision(sub.spec);
  return {
    ...common(sub, portal),
    client_name: sub.spec.clientRef.name,
    api_name: sub.spec.apiRef.name,
    plan_name: sub.spec.planRef.name,
    phase: sub.status?.phase ?? "Pending",
    approved: decision === "Approved" ? true : decision === "Rejected" ? false : null,
    credentials_secret: sub.status?.credentialsSecret ?? null,
    owner,
  };
}

type Row =
  | ReturnType<typeof apiRow>
  | ReturnType<typeof planRow>
  | ReturnType<typeof clientRow>
  | ReturnType<typeof subscriptionRow>;

/**
 * What this process wrote in the last few seconds, per database, table and uid, as a digest of the row
 * without its resourceVersion: the reconcile that follows the operator's own status write (the row is the
 * same) costs no round trip. Only for a few seconds: another replica that leads meanwhile may write the row,
 * but not this soon (it takes a lease duration, 15 s, to take over and as long to hand back).
 */
const written = new WeakMap<Kysely<Database>, Map<string, { digest: string; at: number }>>();
const WRITTEN_FOR_MS = 10_000;

function rowDigest(row: Row): string {
  const { resource_version: _, ...content } = row;
  return createHash("sha1").update(JSON.stringify(content)).digest("base64");
}

/** Whether a Postgres error is the violation of a unique constraint on (namespace, name). */
function isNameTaken(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === "23505" && (e.constraint ?? "").endsWith("_namespace_name_key");
}

/** Writes a row unless it is up to date; replaces the row of an earlier resource of the same name. */
export async function upsertRow(db: Kysely<Database>, table: Table, row: Row): Promise<void> {
  const rows = written.get(db) ?? new Map<string, { digest: string; at: number }>();
  written.set(db, rows);
  const id = `${table}/${row.uid}`;
  const digest = rowDigest(row);
  const last = rows.get(id);
  if (last?.digest === digest && Date.now() - last.at < WRITTEN_FOR_MS) return;
  // The tables share uid, namespace, name and resource_version; kysely types the query through one of them.
  const t = table as "apis";
  const values = row as never;
  const content = Object.keys(row).filter((c) => c !== "uid" && c !== "resource_version");
  const upsert = (q: Kysely<Database>) =>
    q
      .insertInto(t)
      .values(values)
      // A row whose content is unchanged costs no write (on a resync, or after a status write that moved no
      // column). Not "same resourceVersion": a reconcile from a cache one write behind would leave a stale
      // row in place, and the skip above would then trust it.
      .onConflict((oc) =>
        oc
          .column("uid")
          .doUpdateSet(values)
          .where(
            sql<boolean>`(${sql.join(content.map((c) => sql.ref(`${t}.${c}`)))}) is distinct from (${sql.join(content.map((c) => sql.ref(`excluded.${c}`)))})`,
          ),
      )
      .execute();
  try {
    await upsert(db);
  } catch (err) {
    if (!isNameTaken(err)) throw err;
    // A resource recreated under the same name: its predecessor's row goes in the same transaction.
    await db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom(t)
        .where("namespace", "=", row.namespace)
        .where("name", "=", row.name)
        .where("uid", "!=", row.uid)
        .execute();
      await upsert(trx);
    });
  }
  remember(rows, id, digest);
}

/** Records a write; entries stay in the order written, so the expired ones are dropped from the front. */
function remember(rows: Map<string, { digest: string; at: number }>, id: string, digest: string): void {
  const now = Date.now();
  rows.delete(id);
  rows.set(id, { digest, at: now });
  for (const [key, entry] of rows) {
    if (now - entry.at < WRITTEN_FOR_MS) break;
    rows.delete(key);
  }
}

/** Removes the row of a resource that is gone. */
export async function deleteRow(
  db: Kysely<Database>,
  table: Table,
  namespace: string,
  name: string,
): Promise<void> {
  const gone = await db
    .deleteFrom(table)
    .where("namespace", "=", namespace)
    .where("name", "=", name)
    .returning("uid")
    .execute();
  for (const { uid } of gone) written.get(db)?.delete(`${table}/${uid}`);
}
