import type { ColumnType, Generated, GeneratedAlways, JSONColumnType } from "kysely";

// The shape of wicked's Postgres database as the code sees it, after every migration in db/migrations.
// db/schema.int.test.ts compares it with the real database, so a migration without a matching change here
// fails the tests.
//
// How values travel through node-postgres:
// - timestamptz is read as a Date and may be written as a Date or an ISO 8601 string;
// - bigint/bigserial is read as a decimal string (it may not fit a JS number);
// - text[] is read and written as string[];
// - jsonb is read as parsed JSON and written as a JSON string (`JSON.stringify(value)`): node-postgres would
//   turn a JS array into a Postgres array literal, not JSON.

/** A JSON value as stored in a jsonb column. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object; every jsonb column of wicked holds an object (a CHECK constraint refuses anything else). */
export type JsonObject = { [key: string]: JsonValue };

/** A timestamptz column without a default. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** A timestamptz column that defaults to the time of the insert. */
export type CreatedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** A bigint column: read as a decimal string, written as a string, number or bigint. */
export type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;

/** A jsonb column holding an object, written as `JSON.stringify(value)`. */
export type JsonColumn<T extends object = JsonObject> = JSONColumnType<T, string, string>;

/** A jsonb column holding an object that defaults to `{}`. */
export type DefaultedJsonColumn<T extends object = JsonObject> = JSONColumnType<
  T,
  string | undefined,
  string
>;

/**
 * A portal account. Written only by portal-api (and read by the auth server to log people in); deleting a
 * row removes its identities and tokens, while setting `deleted_at` keeps it for the audit trail.
 */
export interface UsersTable {
  /** Random UUID; the subject (`sub`) of the user's tokens. */
  id: Generated<string>;
  /**
   * Address as the user typed it (case kept for display). Unique among live users ignoring case, through the
   * unique index `users_email_key` on `lower(email)` where `deleted_at IS NULL`: look users up with
   * `lower(email) = lower($1)`.
   */
  email: string;
  /** Name shown in the portal; 1–200 characters, not only blanks. */
  display_name: string;
  /**
   * Password hash as a PHC string (`$argon2id$...`, `$scrypt$...`); null for accounts that only log in
   * through an identity provider. A CHECK constraint refuses values not shaped `$id$...`, so a plaintext
   * password cannot be stored by mistake.
   */
  password_hash: string | null;
  /** When the user proved they own `email`; null until then. */
  email_verified_at: Timestamp | null;
  /** Portal groups (for `requiredGroup` on Apis and Plans), from the portal or mapped from an IdP. */
  groups: Generated<string[]>;
  /** Whether the user administers the portal (approves subscriptions, sees the audit log). */
  is_admin: Generated<boolean>;
  /** When the account was created. */
  created_at: CreatedTimestamp;
  /** When the row last changed; a trigger sets it on every UPDATE that does not set it itself. */
  updated_at: CreatedTimestamp;
  /** When the account was deleted (soft delete); null while it is live. */
  deleted_at: Timestamp | null;
}

/** A login through an external OIDC identity provider, linked to a user. */
export interface IdentitiesTable {
  /** Random UUID. */
  id: Generated<string>;
  /** The user this identity logs in as; the row goes when the user row does. */
  user_id: string;
  /** Name of the identity provider as configured on the ApiPortal. Unique with `subject`. */
  provider: string;
  /** The provider's `sub` claim; unique per provider (`identities_provider_subject_key`). */
  subject: string;
  /** Email address the provider last reported, if any; informational. */
  email: string | null;
  /** When the identity was first linked. */
  created_at: CreatedTimestamp;
  /** When the row last changed; maintained by a trigger like `users.updated_at`. */
  updated_at: CreatedTimestamp;
}

/**
 * A single-use token mailed to a user. Only the token's hash is stored, so a database leak does not hand
 * out usable links; a token is valid while `consumed_at IS NULL AND expires_at > now()`, and is consumed by
 * an UPDATE with exactly that condition so two concurrent uses cannot both succeed.
 */
export interface TokenTable {
  /** Random UUID. */
  id: Generated<string>;
  /** The user the token was issued to; the row goes when the user row does. */
  user_id: string;
  /** SHA-256 of the token as 64 lowercase hex digits; unique. */
  token_hash: string;
  /** When the token stops being accepted; after `created_at`. */
  expires_at: Timestamp;
  /** When the token was used; null while unused. */
  consumed_at: Timestamp | null;
  /** When the token was issued. */
  created_at: CreatedTimestamp;
}

/** A token that proves a user owns an email address. */
export interface EmailVerificationsTable extends TokenTable {
  /** The address being verified (the user may change theirs before clicking the link). */
  email: string;
  /**
   * The password chosen with this sign-up, activated when this link is followed; null for a link that
   * sets none (a resent one: the account then needs a password reset).
   */
  password_hash: string | null;
}

/** A token that lets a user set a new password. */
export type PasswordResetsTable = TokenTable;

/**
 * Storage of the auth server's node-oidc-provider adapter: sessions, grants, codes, tokens, interactions.
 * One row per (model, id); the adapter's `find`, `findByUid`, `findByUserCode`, `consume`, `destroy` and
 * `revokeByGrantId` map to the key and the indexes on `uid`, `user_code` and `grant_id`.
 */
export interface OidcPayloadsTable {
  /** The provider's model name (`Session`, `AccessToken`, `Grant`, ...). */
  model: string;
  /** The model instance's id, unique within the model. */
  id: string;
  /** The payload the provider stored, as given. */
  payload: JsonColumn;
  /** The grant the instance belongs to, for revoking everything of a grant at once. */
  grant_id: string | null;
  /** The device flow's user code (DeviceCode only). */
  user_code: string | null;
  /** The session's uid (Session only). */
  uid: string | null;
  /** When the instance expires; expired rows are treated as absent and purged. */
  expires_at: Timestamp | null;
  /** When a single-use instance (codes, refresh tokens with rotation) was consumed. */
  consumed_at: Timestamp | null;
  /** When the row was written. */
  created_at: CreatedTimestamp;
}

/** An append-only record of who did what, for portal admins and incident review. */
export interface AuditLogTable {
  /** Sequence number (bigserial); increases with insertion order. */
  id: GeneratedAlways<string>;
  /** When it happened. */
  at: CreatedTimestamp;
  /** Who did it: a user id, `operator`, or a Kubernetes user name. */
  actor: string;
  /** What was done, e.g. `subscription.approve`. */
  action: string;
  /** Kind of the object acted on, e.g. `Subscription` or `User`. */
  target_kind: string;
  /** Name (or id) of the object acted on. */
  target_name: string;
  /** Namespace of the object, for namespaced resources. */
  namespace: string | null;
  /** Anything else worth keeping; never secrets. */
  details: DefaultedJsonColumn;
}

/**
 * Events about users written in the same transaction as the change they describe (the transactional
 * outbox), so the operator's mailer sees every one exactly once even if a process dies in between.
 */
export interface OutboxTable {
  /** Sequence number (bigserial); consumers process in this order. */
  id: GeneratedAlways<string>;
  /** What happened, e.g. `UserRegistered`, `PasswordResetRequested`. */
  event_type: string;
  /** What it happened to, usually a user id. */
  aggregate: string;
  /** Event data the consumer needs (db/outbox.ts); a one-time token only until its mail is sent, never a password. */
  payload: DefaultedJsonColumn;
  /** When the event was written. */
  created_at: CreatedTimestamp;
  /** When a consumer finished with it; null while pending (`outbox_unprocessed_idx`). */
  processed_at: Timestamp | null;
}

/**
 * Columns every read-model table shares. The operator alone writes these tables, one row per custom
 * resource keyed by its UID: idempotent upserts, rows removed when the resource is gone. A resource
 * recreated under the same name has a new UID: replace the old row (upsert on `(namespace, name)`).
 */
export interface ResourceTable {
  /** `metadata.uid` of the resource. */
  uid: string;
  /** `metadata.namespace`. Unique with `name` (`<table>_namespace_name_key`). */
  namespace: string;
  /** `metadata.name`. */
  name: string;
  /** Name of the ApiPortal the resource belongs to. */
  portal: string;
  /** `metadata.generation` the row was written from. */
  generation: Int8;
  /** `metadata.resourceVersion` the row was written from. */
  resource_version: string;
  /** The resource's spec as the operator saw it. */
  spec: JsonColumn;
  /** When the operator last wrote the row; maintained by a trigger unless set. */
  updated_at: CreatedTimestamp;
}

/** How a client authenticates to an Api at the gateway. */
export type ApiAuth = "key-auth" | "oauth2" | "none";

/** An Api as the portal lists it. */
export interface ApisTable extends ResourceTable {
  /** Title shown in the portal. */
  display_name: string;
  /** Markdown description. */
  description: Generated<string>;
  /** How clients authenticate (a CHECK constraint allows only these values). */
  auth: ApiAuth;
  /** Portal group a user needs to see the Api; null when everyone may. */
  required_group: string | null;
  /** Names of the Plans a subscription may choose. */
  plans: Generated<string[]>;
  /** Free-form tags for filtering in the portal. */
  tags: Generated<string[]>;
  /** Whether the Api is deprecated (still usable, flagged in the portal). */
  deprecated: Generated<boolean>;
}

/** Rate limits of a Plan, in requests per period; an absent period is not limited. */
export interface RateLimits {
  /** Requests per second. */
  second?: number;
  /** Requests per minute. */
  minute?: number;
  /** Requests per hour. */
  hour?: number;
  /** Requests per day. */
  day?: number;
  /** Requests per month. */
  month?: number;
}

/** A Plan as the portal offers it. */
export interface PlansTable extends ResourceTable {
  /** Title shown in the portal. */
  display_name: string;
  /** Markdown description. */
  description: Generated<string>;
  /** Rate limits applied per subscriber. */
  limits: DefaultedJsonColumn<RateLimits>;
  /** Whether a subscription needs an approver's decision before it works. */
  requires_approval: Generated<boolean>;
  /** Portal group a user needs to choose the Plan; null when everyone may. */
  required_group: string | null;
}

/** Whether an ApiClient can keep a secret (server app) or not (browser or mobile app). */
export type ClientType = "confidential" | "public";

/** An ApiClient (an application of a developer) as the portal shows it to its owner. */
export interface ClientsTable extends ResourceTable {
  /** Title shown in the portal. */
  display_name: string;
  /** Portal user who owns the client (`clients_owner_idx`). */
  owner: string;
  /** Confidential or public (a CHECK constraint allows only these values). */
  client_type: ClientType;
  /** OAuth2 client id from the resource's status; null until the operator has issued one. */
  client_id: string | null;
}

/** A Subscription (client + Api + plan) as the portal shows it to its owner and approvers. */
export interface SubscriptionsTable extends ResourceTable {
  /** Name of the ApiClient in the same namespace (`subscriptions_client_idx`). */
  client_name: string;
  /** Name of the Api in the same namespace (`subscriptions_api_idx`). */
  api_name: string;
  /** Name of the Plan in the same namespace. */
  plan_name: string;
  /** Phase from the resource's status, e.g. `Pending`, `Active`, `Rejected`. */
  phase: string;
  /** The approval decision: true approved, false rejected, null not decided yet. */
  approved: boolean | null;
  /** Name of the Secret holding the credentials; null until they exist. */
  credentials_secret: string | null;
  /** Portal user who owns the subscription (`subscriptions_owner_idx`). */
  owner: string;
}

/** Where a notification goes. */
export type NotificationChannel = "email" | "slack" | "teams" | "rocketchat";

/**
 * Where a notification stands: waiting to be sent (or retried), claimed by a sender under a lease, sent, or
 * given up on (the server refused it for good).
 */
export type NotificationStatus = "pending" | "sending" | "sent" | "failed";

/**
 * The side-effect ledger: one row per notification, keyed by a deterministic effect key (e.g.
 * `subscription-approved/<uid>/<generation>/email/<address>`). A sender inserts the row first (the primary
 * key makes a second replica, a restart or a replay fail to claim it), sends, then marks it sent, so nothing
 * is ever sent twice.
 */
export interface NotificationLedgerTable {
  /** Deterministic key of the effect; the same event to the same target always yields the same key. */
  effect_key: string;
  /** What the notification is about, e.g. `SubscriptionApproved`. */
  kind: string;
  /** The channel it goes through (a CHECK constraint allows only these values). */
  channel: NotificationChannel;
  /** The recipient: an email address or the name of a chat target. */
  target: string;
  /** Whether it was sent; `sent_at` is set exactly when the status is `sent` (CHECK constraint). */
  status: ColumnType<NotificationStatus, NotificationStatus | undefined, NotificationStatus>;
  /** How many times sending was tried. */
  attempts: Generated<number>;
  /** The last failure, for the status of the resource and for operators; never contains secrets. */
  last_error: string | null;
  /** When the effect was claimed. */
  created_at: CreatedTimestamp;
  /** When it was sent. */
  sent_at: Timestamp | null;
  /** The ApiPortal (`namespace/name`) whose notification it is; senders only take their portals' rows. */
  portal: ColumnType<string, string | undefined, string>;
  /** What the notification is rendered from (recipients and facts); never a secret or a one-time token. */
  payload: DefaultedJsonColumn;
  /** The outbox event it came from, if any; a verify or reset mail reads its one-time token there. */
  outbox_id: Int8 | null;
  /** When a pending effect is (next) due; failures move it out with capped exponential backoff. */
  next_attempt_at: CreatedTimestamp;
  /** Who holds the 'sending' claim; set exactly while status is 'sending' (CHECK constraint). */
  lease_holder: string | null;
  /** When the 'sending' claim expires and another sender may take the effect over. */
  lease_expires_at: Timestamp | null;
  /**
   * How often a claim was taken over after it expired: the sender died or hung mid-send, so the message may
   * have gone out before; it is sent again with the same Message-ID.
   */
  interrupted_attempts: Generated<number>;
}

/**
 * wicked's database as kysely sees it: `Kysely<Database>` type-checks every query of the operator,
 * portal-api and auth-server against the schema the migrations create.
 */
export interface Database {
  /** Portal accounts. */
  users: UsersTable;
  /** External identity-provider logins of users. */
  identities: IdentitiesTable;
  /** Email verification tokens (hashed, single use). */
  email_verifications: EmailVerificationsTable;
  /** Password reset tokens (hashed, single use). */
  password_resets: PasswordResetsTable;
  /** node-oidc-provider adapter storage. */
  oidc_payloads: OidcPayloadsTable;
  /** Who did what. */
  audit_log: AuditLogTable;
  /** Events about users, for the operator's mailer. */
  outbox: OutboxTable;
  /** Read model of Api resources. */
  apis: ApisTable;
  /** Read model of Plan resources. */
  plans: PlansTable;
  /** Read model of ApiClient resources. */
  clients: ClientsTable;
  /** Read model of Subscription resources. */
  subscriptions: SubscriptionsTable;
  /** Notifications sent (or being sent), so none is sent twice. */
  notification_ledger: NotificationLedgerTable;
}
