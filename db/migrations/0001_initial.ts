import { type CreateTableBuilder, type Kysely, sql } from "kysely";
import type { SchemaMigration } from "./types.ts";

// The first schema: portal data, the operator's read model and the side-effect ledger (DESIGN §3).
// A migration is frozen once released: it never imports db/schema.ts, and later changes go into new files.

const now = sql`now()`;
const emptyArray = sql`'{}'`;
const emptyObject = sql`'{}'::jsonb`;

/** Tables with an `updated_at` column that the touch trigger maintains. */
const touched = ["users", "identities", "apis", "plans", "clients", "subscriptions"];

/** Tables in creation order; `down` drops them in reverse. */
const tables = [
  "users",
  "identities",
  "email_verifications",
  "password_resets",
  "oidc_payloads",
  "audit_log",
  "outbox",
  "apis",
  "plans",
  "clients",
  "subscriptions",
  "notification_ledger",
];

/** Creates the initial schema. */
export const initial: SchemaMigration = {
  async up(db) {
    // Sets updated_at on every UPDATE that does not set it itself, so a caller with its own clock (tests)
    // still decides, and everyone else cannot forget.
    await sql`
      CREATE FUNCTION wicked_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
          NEW.updated_at := now();
        END IF;
        RETURN NEW;
      END
      $$`.execute(db);

    await db.schema
      .createTable("users")
      .addColumn("id", "uuid", (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
      .addColumn("email", "text", (col) => col.notNull())
      .addColumn("display_name", "text", (col) => col.notNull())
      .addColumn("password_hash", "text")
      .addColumn("email_verified_at", "timestamptz")
      .addColumn("groups", sql`text[]`, (col) => col.notNull().defaultTo(emptyArray))
      .addColumn("is_admin", "boolean", (col) => col.notNull().defaultTo(false))
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(now))
      .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(now))
      .addColumn("deleted_at", "timestamptz")
      .addCheckConstraint(
        "users_email_check",
        sql`email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND char_length(email) <= 254`,
      )
      .addCheckConstraint(
        "users_display_name_check",
        sql`char_length(btrim(display_name)) > 0 AND char_length(display_name) <= 200`,
      )
      // A PHC string ($argon2id$..., $scrypt$...): refuses a plaintext password stored by mistake.
      .addCheckConstraint("users_password_hash_check", sql`password_hash LIKE '$%$%'`)
      .execute();
    // One live account per address, whatever its case; a deleted account frees its address.
    await db.schema
      .createIndex("users_email_key")
      .on("users")
      .unique()
      .expression(sql`lower(email)`)
      .where(sql<boolean>`deleted_at IS NULL`)
      .execute();

    await db.schema
      .createTable("identities")
      .addColumn("id", "uuid", (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
      .addColumn("user_id", "uuid", (col) => col.notNull().references("users.id").onDelete("cascade"))
      .addColumn("provider", "text", (col) => col.notNull())
      .addColumn("subject", "text", (col) => col.notNull())
      .addColumn("email", "text")
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(now))
      .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(now))
      .addUniqueConstraint("identities_provider_subject_key", ["provider", "subject"])
      .addCheckConstraint("identities_provider_check", sql`char_length(provider) > 0`)
      .addCheckConstraint("identities_subject_check", sql`char_length(subject) > 0`)
      .execute();
    await db.schema.createIndex("identities_user_id_idx").on("identities").column("user_id").execute();

    await tokenTable(db, "email_verifications", (table) =>
      table.addColumn("email", "text", (col) => col.notNull()),
    );
    await tokenTable(db, "password_resets", (table) => table);

    await db.schema
      .createTable("oidc_payloads")
      .addColumn("model", "text", (col) => col.notNull())
      .addColumn("id", "text", (col) => col.notNull())
      .addColumn("payload", "jsonb", (col) => col.notNull())
      .addColumn("grant_id", "text")
      .addColumn("user_code", "text")
      .addColumn("uid", "text")
      .addColumn("expires_at", "timestamptz")
      .addColumn("consumed_at", "timestamptz")
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(now))
      .addPrimaryKeyConstraint("oidc_payloads_pkey", ["model", "id"])
      .addCheckConstraint("oidc_payloads_payload_check", sql`jsonb_typeof(payload) = 'object'`)
      .execute();
    for (const column of ["grant_id", "uid", "user_code"]) {
      await db.schema
        .createIndex(`oidc_payloads_${column}_idx`)
        .on("oidc_payloads")
        .column(column)
        .where(sql<boolean>`${sql.ref(column)} IS NOT NULL`)
        .execute();
    }
    await db.schema
      .createIndex("oidc_payloads_expires_at_idx")
      .on("oidc_payloads")
      .column("expires_at")
      .execute();

    await db.schema
      .createTable("audit_log")
      .addColumn("id", "bigserial", (col) => col.primaryKey())
      .addColumn("at", "timestamptz", (col) => col.notNull().defaultTo(now))
      .addColumn("actor", "text", (col) => col.notNull())
      .addColumn("action", "text", (col) => col.notNull())
      .addColumn("target_kind", "text", (col) => col.notNull())
      .addColumn("target_name", "text", (col) => col.notNull())
      .addColumn("namespace", "text")
      .addColumn("details", "jsonb", (col) => col.notNull().defaultTo(emptyObject))
      .addCheckConstraint("audit_log_actor_check", sql`char_length(actor) > 0`)
      .addCheckConstraint("audit_log_action_check", sql`char_length(action) > 0`)
      .addCheckConstraint("audit_log_details_check", sql`jsonb_typeof(details) = 'object'`)
      .execute();
    await db.schema.createIndex("audit_log_at_idx").on("audit_log").column("at").execute();
    await db.schema.createIndex("audit_log_actor_at_idx").on("audit_log").columns(["actor", "at"]).execute();

    await db.schema
      .createTable("outbox")
      .addColumn("id", "bigserial", (col) => col.primaryKey())
      .addColumn("event_type", "text", (col) => col.notNull())
      .addColumn("aggregate", "text", (col) => col.notNull())
      .addColumn("payload", "jsonb", (col) => col.notNull().defaultTo(emptyObject))
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(now))
      .addColumn("processed_at", "timestamptz")
      .addCheckConstraint("outbox_event_type_check", sql`char_length(event_type) > 0`)
      .addCheckConstraint("outbox_payload_check", sql`jsonb_typeof(payload) = 'object'`)
      .execute();
    await db.schema
      .createIndex("outbox_unprocessed_idx")
      .on("outbox")
      .column("id")
      .where(sql<boolean>`processed_at IS NULL`)
      .execute();

    await readModelTable(db, "apis", (table) =>
      table
        .addColumn("display_name", "text", (col) => col.notNull())
        .addColumn("description", "text", (col) => col.notNull().defaultTo(""))
        .addColumn("auth", "text", (col) => col.notNull())
        .addColumn("required_group", "text")
        .addColumn("plans", sql`text[]`, (col) => col.notNull().defaultTo(emptyArray))
        .addColumn("tags", sql`text[]`, (col) => col.notNull().defaultTo(emptyArray))
        .addColumn("deprecated", "boolean", (col) => col.notNull().defaultTo(false))
        .addCheckConstraint("apis_auth_check", sql`auth IN ('key-auth', 'oauth2', 'none')`),
    );
    await readModelTable(db, "plans", (table) =>
      table
        .addColumn("display_name", "text", (col) => col.notNull())
        .addColumn("description", "text", (col) => col.notNull().defaultTo(""))
        .addColumn("limits", "jsonb", (col) => col.notNull().defaultTo(emptyObject))
        .addColumn("requires_approval", "boolean", (col) => col.notNull().defaultTo(false))
        .addColumn("required_group", "text")
        .addCheckConstraint("plans_limits_check", sql`jsonb_typeof(limits) = 'object'`),
    );
    await readModelTable(db, "clients", (table) =>
      table
        .addColumn("display_name", "text", (col) => col.notNull())
        .addColumn("owner", "text", (col) => col.notNull())
        .addColumn("client_type", "text", (col) => col.notNull())
        .addColumn("client_id", "text")
        .addCheckConstraint("clients_client_type_check", sql`client_type IN ('confidential', 'public')`),
    );
    await db.schema.createIndex("clients_owner_idx").on("clients").column("owner").execute();
    await readModelTable(db, "subscriptions", (table) =>
      table
        .addColumn("client_name", "text", (col) => col.notNull())
        .addColumn("api_name", "text", (col) => col.notNull())
        .addColumn("plan_name", "text", (col) => col.notNull())
        .addColumn("phase", "text", (col) => col.notNull())
        .addColumn("approved", "boolean")
        .addColumn("credentials_secret", "text")
        .addColumn("owner", "text", (col) => col.notNull())
        .addCheckConstraint("subscriptions_phase_check", sql`char_length(phase) > 0`),
    );
    await db.schema.createIndex("subscriptions_owner_idx").on("subscriptions").column("owner").execute();
    await db.schema
      .createIndex("subscriptions_client_idx")
      .on("subscriptions")
      .columns(["namespace", "client_name"])
      .execute();
    await db.schema
      .createIndex("subscriptions_api_idx")
      .on("subscriptions")
      .columns(["namespace", "api_name"])
      .execute();

    await db.schema
      .createTable("notification_ledger")
      .addColumn("effect_key", "text", (col) => col.primaryKey())
      .addColumn("kind", "text", (col) => col.notNull())
      .addColumn("channel", "text", (col) => col.notNull())
      .addColumn("target", "text", (col) => col.notNull())
      .addColumn("status", "text", (col) => col.notNull().defaultTo("pending"))
      .addColumn("attempts", "integer", (col) => col.notNull().defaultTo(0))
      .addColumn("last_error", "text")
      .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(now))
      .addColumn("sent_at", "timestamptz")
      .addCheckConstraint("notification_ledger_effect_key_check", sql`char_length(effect_key) > 0`)
      .addCheckConstraint("notification_ledger_kind_check", sql`char_length(kind) > 0`)
      .addCheckConstraint(
        "notification_ledger_channel_check",
        sql`channel IN ('email', 'slack', 'teams', 'rocketchat')`,
      )
      .addCheckConstraint("notification_ledger_status_check", sql`status IN ('pending', 'sent', 'failed')`)
      .addCheckConstraint("notification_ledger_attempts_check", sql`attempts >= 0`)
      .addCheckConstraint("notification_ledger_sent_at_check", sql`(status = 'sent') = (sent_at IS NOT NULL)`)
      .execute();
    await db.schema
      .createIndex("notification_ledger_unsent_idx")
      .on("notification_ledger")
      .column("created_at")
      .where(sql<boolean>`status <> 'sent'`)
      .execute();

    for (const table of touched) {
      await sql`
        CREATE TRIGGER ${sql.id(`${table}_touch_updated_at`)} BEFORE UPDATE ON ${sql.table(table)}
        FOR EACH ROW EXECUTE FUNCTION wicked_touch_updated_at()`.execute(db);
    }
  },

  async down(db) {
    for (const table of [...tables].reverse()) {
      await db.schema.dropTable(table).execute();
    }
    await sql`DROP FUNCTION wicked_touch_updated_at()`.execute(db);
  },
};

/** A single-use token stored only as its SHA-256 (hex), owned by a user. */
async function tokenTable(
  db: Kysely<unknown>,
  name: string,
  extend: (table: CreateTableBuilder<string, string>) => CreateTableBuilder<string, string>,
): Promise<void> {
  await extend(
    db.schema
      .createTable(name)
      .addColumn("id", "uuid", (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
      .addColumn("user_id", "uuid", (col) => col.notNull().references("users.id").onDelete("cascade")),
  )
    .addColumn("token_hash", "text", (col) => col.notNull().unique())
    .addColumn("expires_at", "timestamptz", (col) => col.notNull())
    .addColumn("consumed_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(now))
    .addCheckConstraint(`${name}_token_hash_check`, sql`token_hash ~ '^[0-9a-f]{64}$'`)
    .addCheckConstraint(`${name}_expires_at_check`, sql`expires_at > created_at`)
    .execute();
  await db.schema.createIndex(`${name}_user_id_idx`).on(name).column("user_id").execute();
  await db.schema.createIndex(`${name}_expires_at_idx`).on(name).column("expires_at").execute();
}

/** A row of the operator's read model: one custom resource, keyed by its UID. */
async function readModelTable(
  db: Kysely<unknown>,
  name: string,
  extend: (table: CreateTableBuilder<string, string>) => CreateTableBuilder<string, string>,
): Promise<void> {
  await extend(
    db.schema
      .createTable(name)
      .addColumn("uid", "text", (col) => col.primaryKey())
      .addColumn("namespace", "text", (col) => col.notNull())
      .addColumn("name", "text", (col) => col.notNull())
      .addColumn("portal", "text", (col) => col.notNull())
      .addColumn("generation", "bigint", (col) => col.notNull())
      .addColumn("resource_version", "text", (col) => col.notNull())
      .addColumn("spec", "jsonb", (col) => col.notNull()),
  )
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(now))
    .addUniqueConstraint(`${name}_namespace_name_key`, ["namespace", "name"])
    .addCheckConstraint(`${name}_uid_check`, sql`char_length(uid) > 0`)
    .addCheckConstraint(`${name}_name_check`, sql`char_length(namespace) > 0 AND char_length(name) > 0`)
    .addCheckConstraint(`${name}_generation_check`, sql`generation >= 0`)
    .addCheckConstraint(`${name}_spec_check`, sql`jsonb_typeof(spec) = 'object'`)
    .execute();
}
