/**
 * The Kong sync engine: reads the portal's entities from Kong by tag, diffs them with the desired state and
 * applies the minimal writes in dependency order, retrying transient failures. Only entities carrying all the
 * scope tags are read, changed or deleted; Kong entities of other tools are invisible to it. Kong's refusals
 * become per-resource errors in the report (errors.ts); only a state that cannot be read at all, or an abort,
 * makes the sync throw.
 */
import type { Logger } from "pino";
import { type KongAdminClient, KongAdminError } from "./admin-client.ts";
import { fieldsDigest } from "./compare.ts";
import { type DeleteStep, diffKongState, type KongPlanStep } from "./diff.ts";
import { dependencyNotProgrammed, explainFailure, type KongSyncError } from "./errors.ts";
import type { KongLedger } from "./ledger.ts";
import { RetriesExhaustedError, type RetryOptions, withRetry } from "./retry.ts";
import {
  actualEntity,
  CREATION_ORDER,
  type KongCollection,
  type KongState,
  type KongStateEntity,
  kongState,
  referencedIds,
} from "./state.ts";
import { describeResource, type ResourceRef, resourceKey } from "./tags.ts";

/** How a sync runs. */
export interface SyncOptions {
  /** Tags selecting the portal's entities (tags.ts `scopeTags`): 1 to 5, all carried by every desired entity. */
  scopeTags: string[];
  /** Retries of each Admin API request. */
  retry?: RetryOptions;
  /** Stops the sync between and during requests; the sync then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * What earlier syncs saw in Kong (ledger.ts). With it, entities that were in Kong as desired and are now
   * missing or different are reported as drift; without it, no drift is reported.
   */
  ledger?: KongLedger;
  /** Requests in flight at once within one collection; default 4. */
  concurrency?: number;
  /** Logs each write ("Created Kong route") with the owning resource; never a credential. */
  log?: Logger;
  /**
   * Kong's state as the last sync left it (SyncReport.after): diffed against instead of reading Kong, so a
   * sync after a change costs the writes of that change only. Without it every collection is read (the
   * periodic drift sweep).
   */
  known?: KongState;
  /**
   * Called for each Subscription whose entities are all in Kong as desired: before the first write for those
   * already in sync, and right after its own last write for the others. A large sync (an operator's first,
   * a rollout) thus reports Subscriptions one by one instead of all at its end.
   */
  onSubscriptionSynced?: (owner: ResourceRef) => void;
}

/** Entities per collection. */
export type CollectionCounts = Record<KongCollection, number>;

/** An entity that had been in Kong as desired and was found missing or changed by someone else. */
export interface DriftItem {
  readonly owner?: ResourceRef;
  readonly collection: KongCollection;
  /** The entity's label: names no secret. */
  readonly entity: string;
  readonly kind: "missing" | "modified";
  /** For `modified`: the names of the fields that differed (never their values). */
  readonly fields: readonly string[];
  /** Whether this sync put the entity back; when not, `errors` says why. */
  readonly corrected: boolean;
}

/** What a sync did. */
export interface SyncReport {
  /** Successful Admin API writes (PUT and DELETE). */
  writes: number;
  /** Requests that were retried after a transient failure. */
  retries: number;
  created: CollectionCounts;
  updated: CollectionCounts;
  /** Entities removed, by a DELETE or by Kong's cascade with their consumer or service. */
  deleted: CollectionCounts;
  /** Desired entities Kong already held as desired. */
  inSync: number;
  drift: DriftItem[];
  errors: KongSyncError[];
  /**
   * Kong's state after the sync, for the next sync's `known`; absent when a write failed (then only a read
   * tells what Kong holds).
   */
  after?: KongState;
}

function zeroCounts(): CollectionCounts {
  return Object.fromEntries(CREATION_ORDER.map((c) => [c, 0])) as CollectionCounts;
}

function hasAllTags(tags: readonly string[] | null | undefined, wanted: readonly string[]): boolean {
  return wanted.every((t) => tags?.includes(t) === true);
}

/** Reads the portal's entities of every collection (only those carrying all scope tags). */
export async function readKongState(
  client: KongAdminClient,
  scopeTags: string[],
  retry: RetryOptions = {},
  signal?: AbortSignal,
): Promise<KongState> {
  const entities: KongStateEntity[] = [];
  for (const collection of CREATION_ORDER) {
    const listed = await withRetry(
      () => client.listTagged(collection, scopeTags, signal ? { signal } : {}),
      retry,
      signal,
    );
    for (const entity of listed) {
      if (hasAllTags(entity.tags, scopeTags)) entities.push(actualEntity(collection, entity));
    }
  }
  return kongState(entities);
}

async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** Consecutive steps of the same action kind and collection: they do not depend on each other. */
function stages(steps: readonly KongPlanStep[]): KongPlanStep[][] {
  const result: KongPlanStep[][] = [];
  let stageKey = "";
  for (const step of steps) {
    const entity = step.action === "delete" ? step.actual : step.desired;
    const key = `${step.action === "delete" ? "delete" : "upsert"}:${entity.collection}`;
    const current = result[result.length - 1];
    if (current && key === stageKey) current.push(step);
    else result.push([step]);
    stageKey = key;
  }
  return result;
}

/**
 * Splits a plan into the steps that run first, in stages (every delete, and the upserts of Apis and the
 * portal, which Subscriptions' entities may reference), and each Subscription's own upserts, in creation
 * order: one Subscription's writes depend on each other only, so Subscriptions run side by side.
 */
function partitionBySubscription(steps: readonly KongPlanStep[]): {
  shared: KongPlanStep[];
  bySubscription: Map<string, { owner: ResourceRef; steps: KongPlanStep[] }>;
} {
  const shared: KongPlanStep[] = [];
  const bySubscription = new Map<string, { owner: ResourceRef; steps: KongPlanStep[] }>();
  for (const step of steps) {
    const owner = step.action === "delete" ? undefined : step.desired.owner;
    if (owner?.kind !== "Subscription") {
      shared.push(step);
      continue;
    }
    const key = resourceKey(owner);
    const group = bySubscription.get(key) ?? { owner, steps: [] };
    group.steps.push(step);
    bySubscription.set(key, group);
  }
  return { shared, bySubscription };
}

const VERBS = { create: "Created", update: "Updated", delete: "Deleted" } as const;

/**
 * Whether a write corrects drift: a create of an entity the ledger saw in Kong (someone deleted it), or an
 * update although the desired fields are those Kong was last seen holding (someone changed it).
 */
function driftOf(
  step: KongPlanStep,
  knownDigest: string | undefined,
  digest: string,
): Pick<DriftItem, "kind" | "fields"> | undefined {
  if (step.action === "create" && knownDigest !== undefined) return { kind: "missing", fields: [] };
  if (step.action === "update" && knownDigest === digest)
    return { kind: "modified", fields: step.changedFields };
  return undefined;
}

/** Applies one sync: read, diff, write. See SyncOptions and SyncReport. */
export async function syncKong(
  client: KongAdminClient,
  desired: KongState,
  opts: SyncOptions,
): Promise<SyncReport> {
  const { signal, ledger, log } = opts;
  const report: SyncReport = {
    writes: 0,
    retries: 0,
    created: zeroCounts(),
    updated: zeroCounts(),
    deleted: zeroCounts(),
    inSync: 0,
    drift: [],
    errors: [],
  };
  for (const entity of desired.entities.values()) {
    if (!hasAllTags(entity.fields.tags as string[] | undefined, opts.scopeTags)) {
      throw new RangeError(`the desired ${entity.label} lacks the scope tags ${opts.scopeTags.join(", ")}`);
    }
  }
  const retry: RetryOptions = {
    ...opts.retry,
    onRetry: (info) => {
      report.retries++;
      opts.retry?.onRetry?.(info);
    },
  };
  const requestOptions = (sensitive: boolean) => ({ sensitive, ...(signal ? { signal } : {}) });
  const actual = opts.known ?? (await readKongState(client, opts.scopeTags, retry, signal));
  const plan = diffKongState(desired, actual);
  for (const entity of plan.inSync) ledger?.record(entity.id, fieldsDigest(entity.fields));
  report.inSync = plan.inSync.length;

  const lookup = (id: string) => desired.entities.get(id) ?? actual.entities.get(id);
  const notProgrammed = new Map<string, KongStateEntity>();
  const deletedIds = new Set<string>();
  const cascaded: DeleteStep[] = [];
  const unreachableOwners = new Set<string>();
  let unreachable: KongSyncError | undefined;

  const giveUp = (step: KongPlanStep, entity: KongStateEntity): void => {
    notProgrammed.set(entity.id, entity);
    const ownerKey = entity.owner ? resourceKey(entity.owner) : entity.id;
    if (!unreachable || unreachableOwners.has(ownerKey)) return;
    unreachableOwners.add(ownerKey);
    report.errors.push({
      ...unreachable,
      ...(entity.owner ? { owner: entity.owner } : {}),
      ...(entity.origin ? { origin: entity.origin } : {}),
      collection: entity.collection,
      action: step.action,
      entity: entity.label,
    });
  };

  const apply = async (step: KongPlanStep): Promise<void> => {
    signal?.throwIfAborted();
    const entity = step.action === "delete" ? step.actual : step.desired;
    if (step.action === "delete" && step.cascadedBy !== undefined) {
      cascaded.push(step);
      return;
    }
    if (unreachable) return giveUp(step, entity);
    if (step.action !== "delete") {
      const blocker = referencedIds(entity.fields)
        .map((id) => notProgrammed.get(id))
        .find((e) => e !== undefined);
      if (blocker) {
        notProgrammed.set(entity.id, entity);
        report.errors.push(dependencyNotProgrammed(step.action, entity, blocker));
        return;
      }
    }
    const digest = fieldsDigest(entity.fields);
    const drift = driftOf(step, ledger?.digestOf(entity.id), digest);
    try {
      if (step.action === "delete") {
        await withRetry(
          () => client.delete(entity.collection, entity.id, requestOptions(false)),
          retry,
          signal,
        );
        deletedIds.add(entity.id);
        ledger?.forget(entity.id);
        report.deleted[entity.collection]++;
      } else {
        const body = entity.fields;
        await withRetry(
          () => client.put(entity.collection, entity.id, body, requestOptions(entity.sensitive)),
          retry,
          signal,
        );
        ledger?.record(entity.id, digest);
        report[step.action === "create" ? "created" : "updated"][entity.collection]++;
      }
      report.writes++;
      log?.info(
        {
          owner: entity.owner ? describeResource(entity.owner) : undefined,
          kongId: entity.id,
          drift: drift?.kind,
        },
        `${drift ? "Corrected drifted" : VERBS[step.action]} Kong ${entity.collection.replace(/s$/, "")}`,
      );
    } catch (err) {
      signal?.throwIfAborted();
      if (!(err instanceof KongAdminError)) throw err;
      notProgrammed.set(entity.id, entity);
      const error = explainFailure({ action: step.action, entity, error: err, lookup });
      report.errors.push(error);
      if (err instanceof RetriesExhaustedError && err.status === 0) {
        unreachable = { ...error, message: `not programmed: ${error.message}` };
        if (entity.owner) unreachableOwners.add(resourceKey(entity.owner));
      }
    } finally {
      if (drift) {
        report.drift.push({
          ...(entity.owner ? { owner: entity.owner } : {}),
          collection: entity.collection,
          entity: entity.label,
          kind: drift.kind,
          fields: drift.fields,
          corrected: !notProgrammed.has(entity.id),
        });
      }
    }
  };

  const concurrency = opts.concurrency ?? 4;
  const { shared, bySubscription } = partitionBySubscription(plan.steps);
  const failedOwners = new Set<string>();
  let errorsSeen = 0;
  const synced = (owner: ResourceRef) => {
    for (; errorsSeen < report.errors.length; errorsSeen++) {
      const failed = report.errors[errorsSeen]?.owner;
      if (failed) failedOwners.add(resourceKey(failed));
    }
    if (!failedOwners.has(resourceKey(owner))) opts.onSubscriptionSynced?.(owner);
  };
  const subscriptions = new Map<string, ResourceRef>();
  for (const entity of desired.entities.values())
    if (entity.owner?.kind === "Subscription") subscriptions.set(resourceKey(entity.owner), entity.owner);
  const touched = new Set(
    plan.steps.flatMap((s) => {
      const owner = s.action === "delete" ? s.actual.owner : s.desired.owner;
      return owner ? [resourceKey(owner)] : [];
    }),
  );
  for (const [key, owner] of subscriptions) if (!touched.has(key)) synced(owner);
  for (const stage of stages(shared)) await runPool(stage, concurrency, apply);
  for (const [key, owner] of subscriptions) if (touched.has(key) && !bySubscription.has(key)) synced(owner);
  await runPool([...bySubscription.values()], concurrency, async ({ owner, steps }) => {
    for (const step of steps) await apply(step);
    synced(owner);
  });
  ledger?.retainOnly(desired.entities);
  for (const step of cascaded) {
    if (step.cascadedBy !== undefined && deletedIds.has(step.cascadedBy)) {
      report.deleted[step.actual.collection]++;
      deletedIds.add(step.actual.id);
    }
  }
  if (report.errors.length === 0) {
    // Every write succeeded: Kong holds the desired entities, minus nothing, plus whatever it held that was
    // neither desired nor deleted (no such entity survives a successful plan, but keep what was read).
    const after = new Map(actual.entities);
    for (const id of deletedIds) after.delete(id);
    for (const [id, entity] of desired.entities) after.set(id, entity);
    report.after = { entities: after };
  }
  return report;
}
