/**
 * The portal's read model: one row per Api, Plan, ApiClient and Subscription, keyed by the resource's UID,
 * written only by the operator. Upserts are idempotent; a row is removed with its resource. A resource
 * recreated under the same name replaces the old row.
 */
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

/** Writes a row unless it is up to date; replaces the row of an earlier resource of the same name. */
export async function upsertRow(
  db: Kysely<Database>,
  table: Table,
  row:
    | ReturnType<typeof apiRow>
    | ReturnType<typeof planRow>
    | ReturnType<typeof clientRow>
    | ReturnType<typeof subscriptionRow>,
): Promise<void> {
  // The tables share uid, namespace, name and resource_version; kysely types the query through one of them.
  const t = table as "apis";
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom(t)
      .where("namespace", "=", row.namespace)
      .where("name", "=", row.name)
      .where("uid", "!=", row.uid)
      .execute();
    const values = row as never;
    await trx
      .insertInto(t)
      .values(values)
      // Unchanged resources (same resourceVersion) cost no write on a resync.
      .onConflict((oc) =>
        oc
          .column("uid")
          .doUpdateSet(values)
          .where(sql<boolean>`${sql.table(t)}.resource_version is distinct from excluded.resource_version`),
      )
      .execute();
  });
}

/** Removes the row of a resource that is gone. */
export async function deleteRow(
  db: Kysely<Database>,
  table: Table,
  namespace: string,
  name: string,
): Promise<void> {
  await db.deleteFrom(table).where("namespace", "=", namespace).where("name", "=", name).execute();
}
