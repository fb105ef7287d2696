/**
 * Who hears about a subscription: its owner (the ApiClient's spec.owner) and, for an approval request, the
 * approvers — live users in the portal's approver group who are also in the Api's required group when it
 * has one — or, when there are none, the portal's spec.mail.adminAddresses.
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "../../db/schema.ts";

/** The addresses of the users in every one of `groups`, in a stable order. */
export async function usersInGroups(db: Kysely<Database>, groups: readonly string[]): Promise<string[]> {
  let query = db.selectFrom("users").select("email").where("deleted_at", "is", null);
  for (const group of groups) query = query.where(sql<boolean>`${group} = ANY(groups)`);
  const rows = await query.orderBy(sql`lower(email)`).execute();
  return rows.map((r) => r.email);
}

/** The approvers of a subscription to an Api, or the admin addresses when no user qualifies. */
export async function approverAddresses(
  db: Kysely<Database>,
  approverGroup: string,
  requiredGroup: string | undefined,
  adminAddresses: readonly string[],
): Promise<string[]> {
  const groups = requiredGroup ? [approverGroup, requiredGroup] : [approverGroup];
  const approvers = await usersInGroups(db, groups);
  return approvers.length > 0 ? approvers : [...adminAddresses];
}

/** The display name of the live user with an address, if there is one. */
export async function displayNameOf(db: Kysely<Database>, email: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("users")
    .select("display_name")
    .where(sql<boolean>`lower(email) = lower(${email})`)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  return row?.display_name;
}

/** The owner the read model recorded for a subscription (by UID), e.g. after its ApiClient was deleted. */
export async function ownerInReadModel(db: Kysely<Database>, uid: string): Promise<string | undefined> {
  const row = await db.selectFrom("subscriptions").select("owner").where("uid", "=", uid).executeTakeFirst();
  return row?.owner || undefined;
}
