/**
 * Kubernetes Events (events.k8s.io/v1) about the objects the operator manages, so `kubectl describe` and
 * `kubectl events` tell a user what the operator did and what went wrong. A repeated event increments the
 * existing Event's series count instead of creating another object, like client-go's event recorder.
 */
import type { Logger } from "pino";
import type { Client } from "./client.ts";
import { isNotFound } from "./errors.ts";
import { microTime } from "./time.ts";
import type { GroupVersionKind, KubeObject } from "./types.ts";

/** Where Events live. */
export const EVENT_GVK: GroupVersionKind = {
  group: "events.k8s.io",
  version: "v1",
  kind: "Event",
  plural: "events",
};

/** Event type: Normal for progress, Warning for something a user should look at. */
export type EventType = "Normal" | "Warning";

/** Records Events; never fails the caller (an Event is best-effort, the failure is logged). */
export interface EventRecorder {
  /**
   * Records that `action` (default: `reason`) happened to `obj`, with a CamelCase `reason` and a
   * human-readable `message` (truncated to 1 kB). Resolves after the write, or after logging its failure.
   */
  event(obj: KubeObject, type: EventType, reason: string, message: string, action?: string): Promise<void>;
}

/** An events.k8s.io/v1 Event as the recorder writes it. */
export interface KubeEvent extends KubeObject {
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: EventType;
  note: string;
  regarding: { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string };
  series?: { count: number; lastObservedTime: string };
}

/** Options of ApiEventRecorder. */
export interface EventRecorderOptions {
  client: Client;
  logger: Logger;
  /** The component writing, e.g. `wicked.dev/operator` (a qualified name, as the apiserver requires). */
  reportingController: string;
  /** This replica, e.g. the pod name (at most 128 characters). */
  reportingInstance: string;
  /** Clock of eventTime and lastObservedTime. */
  now?: () => Date;
  /** A repeat within this long of the previous occurrence joins its series; 6 minutes by default (client-go). */
  seriesWindowMs?: number;
}

const NOTE_LIMIT = 1024;
const MAX_TRACKED = 4096;

interface Tracked {
  namespace: string;
  name: string;
  count: number;
  lastSeen: number;
}

/** An EventRecorder writing through a Client, aggregating repeats into series. */
export class ApiEventRecorder implements EventRecorder {
  private readonly tracked = new Map<string, Tracked>();
  /** One write at a time per series, so two concurrent repeats do not both create an Event. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly now: () => Date;
  private readonly windowMs: number;
  private sequence = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    this.now = opts.now ?? (() => new Date());
    this.windowMs = opts.seriesWindowMs ?? 6 * 60_000;
  }

  event(obj: KubeObject, type: EventType, reason: string, message: string, action = reason): Promise<void> {
    const note = message.length > NOTE_LIMIT ? `${message.slice(0, NOTE_LIMIT - 3)}...` : message;
    const key = seriesKey(obj, type, reason, action, note);
    const previous = this.pending.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.record(key, obj, type, reason, note, action));
    this.pending.set(key, next);
    void next.finally(() => {
      if (this.pending.get(key) === next) this.pending.delete(key);
    });
    return next;
  }

  private async record(
    key: string,
    obj: KubeObject,
    type: EventType,
    reason: string,
    note: string,
    action: string,
  ): Promise<void> {
    const now = this.now();
    const log = this.opts.logger.child({
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      kind: obj.kind,
      reason,
    });
    try {
      const seen = this.tracked.get(key);
      if (seen && now.getTime() - seen.lastSeen < this.windowMs) {
        const count = seen.count + 1;
        try {
          await this.opts.client.patchMerge(
            EVENT_GVK,
            { namespace: seen.namespace, name: seen.name },
            { series: { count, lastObservedTime: microTime(now) } },
          );
          this.track(key, { ...seen, count, lastSeen: now.getTime() });
          return;
        } catch (err) {
          // The Event expired (the apiserver's event TTL) or was deleted: start a new series below.
          if (!isNotFound(err)) throw err;
        }
      }
      const created = await this.opts.client.create<KubeEvent>(
        this.build(obj, type, reason, note, action, now),
      );
      this.track(key, {
        namespace: created.metadata.namespace ?? "",
        name: created.metadata.name ?? "",
        count: 1,
        lastSeen: now.getTime(),
      });
    } catch (err) {
      // An Event is informational: failing the reconcile over one would turn a degraded apiserver into a
      // retry storm. The failure is logged instead.
      log.warn({ err }, `Failed to record Event ${reason} on ${obj.kind ?? "object"}`);
    }
  }

  private build(
    obj: KubeObject,
    type: EventType,
    reason: string,
    note: string,
    action: string,
    now: Date,
  ): KubeEvent {
    const namespace = obj.metadata.namespace || "default";
    const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(this.sequence++ % 1_000_000);
    return {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: `${obj.metadata.name ?? "unnamed"}.${nanos.toString(16)}`, namespace },
      eventTime: microTime(now),
      reportingController: this.opts.reportingController,
      reportingInstance: this.opts.reportingInstance.slice(0, 128),
      action,
      reason,
      type,
      note,
      regarding: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.metadata.namespace || undefined,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
      },
    };
  }

  private track(key: string, entry: Tracked): void {
    this.tracked.delete(key);
    this.tracked.set(key, entry);
    if (this.tracked.size > MAX_TRACKED) {
      const oldest = this.tracked.keys().next();
      if (!oldest.done) this.tracked.delete(oldest.value);
    }
  }
}

/** Events with the same key are one series: same object, type, reason, action and message. */
export function seriesKey(
  obj: KubeObject,
  type: string,
  reason: string,
  action: string,
  note: string,
): string {
  const m = obj.metadata;
  return JSON.stringify([obj.apiVersion, obj.kind, m.namespace, m.name, m.uid, type, reason, action, note]);
}
