/**
 * What must hold after a rollout survived crashes and outages, as a pure function of a snapshot of the
 * cluster, the read model and Kong: every Subscription Active with its credentials Secret and its read-model
 * row (no lost committed writes), and exactly one consumer, ACL entry, rate-limiting plugin and key-auth
 * credential per Subscription in Kong (no duplicates, no orphans).
 */

/** A Subscription as the apiserver returned it (the fields the checks read). */
export interface SubscriptionFacts {
  name: string;
  uid: string;
  phase?: string;
  credentialsSecret?: string;
}

/** A read-model row of a Subscription. */
export interface SubscriptionRowFacts {
  uid: string;
  name: string;
  phase: string;
  credentials_secret: string | null;
}

/** A Kong entity as the Admin API lists it. */
export type KongEntity = Record<string, unknown>;

/** Everything the checks look at. */
export interface RolloutSnapshot {
  subscriptions: SubscriptionFacts[];
  /** Decoded data of the namespace's Secrets, by name. */
  secrets: Map<string, Record<string, string>>;
  rows: SubscriptionRowFacts[];
  kong: { consumers: KongEntity[]; keyAuths: KongEntity[]; acls: KongEntity[]; plugins: KongEntity[] };
}

/** How many entities of each kind the snapshot held, for the report. */
export interface RolloutCounts {
  subscriptions: number;
  active: number;
  secrets: number;
  rows: number;
  consumers: number;
  keyAuths: number;
  acls: number;
  rateLimitingPlugins: number;
}

function consumerIdOf(entity: KongEntity): string | undefined {
  const consumer = entity.consumer;
  if (typeof consumer !== "object" || consumer === null) return undefined;
  const id = (consumer as { id?: unknown }).id;
  return typeof id === "string" ? id : undefined;
}

function countBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Counts of the snapshot. Pure. */
export function rolloutCounts(s: RolloutSnapshot): RolloutCounts {
  return {
    subscriptions: s.subscriptions.length,
    active: s.subscriptions.filter((x) => x.phase === "Active").length,
    secrets: s.subscriptions.filter((x) => x.credentialsSecret && s.secrets.has(x.credentialsSecret)).length,
    rows: s.rows.length,
    consumers: s.kong.consumers.length,
    keyAuths: s.kong.keyAuths.length,
    acls: s.kong.acls.length,
    rateLimitingPlugins: s.kong.plugins.filter((p) => p.name === "rate-limiting" && consumerIdOf(p)).length,
  };
}

/**
 * Every broken invariant of the snapshot, one message each; empty when the rollout converged cleanly.
 * Subscriptions are expected to use key-auth (one API key each, no rotation in progress). Pure.
 */
export function rolloutProblems(s: RolloutSnapshot): string[] {
  const problems: string[] = [];
  const rowsByUid = new Map(s.rows.map((r) => [r.uid, r]));
  const consumersByCustomId = new Map<string, KongEntity[]>();
  for (const c of s.kong.consumers) {
    const customId = typeof c.custom_id === "string" ? c.custom_id : "";
    consumersByCustomId.set(customId, [...(consumersByCustomId.get(customId) ?? []), c]);
  }
  const keyAuthsByConsumer = new Map<string, KongEntity[]>();
  for (const k of s.kong.keyAuths) {
    const id = consumerIdOf(k) ?? "";
    keyAuthsByConsumer.set(id, [...(keyAuthsByConsumer.get(id) ?? []), k]);
  }
  const aclsPerConsumer = countBy(s.kong.acls, consumerIdOf);
  const rateLimitsPerConsumer = countBy(
    s.kong.plugins.filter((p) => p.name === "rate-limiting"),
    consumerIdOf,
  );
  const subscriptionUids = new Set(s.subscriptions.map((x) => x.uid));

  for (const sub of s.subscriptions) {
    const what = `Subscription ${sub.name}`;
    if (sub.phase !== "Active") problems.push(`${what} is ${sub.phase ?? "without a phase"}, not Active`);
    const secret = sub.credentialsSecret ? s.secrets.get(sub.credentialsSecret) : undefined;
    if (!sub.credentialsSecret) problems.push(`${what} names no credentials Secret in its status`);
    else if (!secret)
      problems.push(`${what}: its credentials Secret ${sub.credentialsSecret} does not exist`);
    else if (!secret.apiKey) problems.push(`${what}: its credentials Secret has no apiKey`);
    const row = rowsByUid.get(sub.uid);
    if (!row) problems.push(`${what} has no read-model row`);
    else if (row.phase !== "Active") problems.push(`${what}: its read-model row says ${row.phase}`);
    else if (row.credentials_secret !== sub.credentialsSecret)
      problems.push(`${what}: its read-model row names Secret ${row.credentials_secret}`);

    const consumers = consumersByCustomId.get(sub.uid) ?? [];
    if (consumers.length !== 1) {
      problems.push(`${what} has ${consumers.length} Kong consumers with its UID as custom_id, not 1`);
      continue;
    }
    const consumerId = String(consumers[0]?.id);
    const keys = keyAuthsByConsumer.get(consumerId) ?? [];
    if (keys.length !== 1) problems.push(`${what} has ${keys.length} key-auth credentials, not 1`);
    else if (secret?.apiKey && keys[0]?.key !== secret.apiKey)
      problems.push(`${what}: its key-auth credential is not the key in its Secret`);
    const acls = aclsPerConsumer.get(consumerId) ?? 0;
    if (acls !== 1) problems.push(`${what} has ${acls} ACL entries, not 1`);
    const limits = rateLimitsPerConsumer.get(consumerId) ?? 0;
    if (limits !== 1) problems.push(`${what} has ${limits} rate-limiting plugins, not 1`);
  }

  for (const [customId, consumers] of consumersByCustomId) {
    if (!subscriptionUids.has(customId))
      problems.push(
        `${consumers.length} Kong consumer(s) with custom_id "${customId}" belong to no Subscription`,
      );
  }
  for (const [key, n] of countBy(s.kong.keyAuths, (k) => (typeof k.key === "string" ? k.key : undefined))) {
    if (n > 1) problems.push(`${n} key-auth credentials share the key ${key.slice(0, 6)}…`);
  }
  const rowUids = countBy(s.rows, (r) => r.uid);
  for (const [uid, n] of rowUids) {
    if (n > 1) problems.push(`${n} read-model rows have the UID ${uid}`);
    else if (!subscriptionUids.has(uid))
      problems.push(`The read-model row ${uid} belongs to no Subscription`);
  }
  return problems;
}

/** The first problems and how many more there are, for an assertion message. */
export function summarize(problems: readonly string[], max = 15): string {
  if (problems.length === 0) return "no problems";
  const shown = problems.slice(0, max).join("\n  ");
  return `${problems.length} problem(s):\n  ${shown}${problems.length > max ? `\n  … and ${problems.length - max} more` : ""}`;
}
