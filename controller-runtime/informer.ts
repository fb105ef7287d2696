/**
 * List+watch of one kind into an ObjectStore, with client-go reflector semantics: list, then watch from the
 * list's resourceVersion with bookmarks; on 410 Gone relist and turn the difference into events so no update
 * is missed; on any other failure reconnect from the last resourceVersion after a capped, jittered backoff.
 */
import type { Logger } from "pino";
import { type BackoffOptions, backoffDelay, DEFAULT_WATCH_BACKOFF, pause } from "./backoff.ts";
import { ApiError } from "./errors.ts";
import { resourceVersionOf } from "./objects.ts";
import { isStatus } from "./rest.ts";
import { ObjectStore } from "./store.ts";
import type { GroupVersionKind, KubeObject, ObjectKey } from "./types.ts";
import { objectKey } from "./types.ts";

/** One page of a list. */
export interface ListPage {
  items: KubeObject[];
  /** resourceVersion of the list, from which a watch continues. */
  resourceVersion: string;
  /** Token of the next page, if any. */
  continue?: string;
}

/** Lists one page of the informer's kind (and namespace); `continue` is the previous page's token. */
export type ListFn = (opts: { limit: number; continue?: string }) => Promise<ListPage>;

/** Parameters of one watch request. */
export interface WatchRequest {
  resourceVersion: string;
  allowWatchBookmarks: true;
  /** The apiserver closes the watch after this long, and the informer reconnects. */
  timeoutSeconds: number;
}

/** A running watch; stop() closes it (onDone may still be called, and is then ignored). */
export interface WatchHandle {
  stop(): void;
}

/**
 * Starts a watch. `onEvent` receives each event's type and object (a Status object for ERROR events);
 * `onDone` is called once when the watch ends, with the error if it failed (an ApiError for a non-200
 * answer).
 */
export type WatchFn = (
  req: WatchRequest,
  onEvent: (type: string, obj: unknown) => void,
  onDone: (err: unknown) => void,
) => Promise<WatchHandle>;

/** Receives changes of the informer's objects. Called synchronously, in order; must not throw. */
export interface InformerHandler {
  onAdd(obj: KubeObject): void;
  onUpdate(oldObj: KubeObject, newObj: KubeObject): void;
  onDelete(obj: KubeObject): void;
}

/** Options of an Informer. */
export interface InformerOptions {
  list: ListFn;
  watch: WatchFn;
  logger: Logger;
  /** Backoff between failed lists and watches; client-go's 800 ms → 30 s by default. */
  backoff?: BackoffOptions;
  /** Base watch timeout; each watch asks for a random value between this and twice this. 300 s by default. */
  watchTimeoutSeconds?: number;
  /** Page size of lists; 500 by default. */
  pageSize?: number;
  random?: () => number;
  /**
   * A kind the cluster may not serve (the Gateway API's, installed or not): a list answered 404 counts as
   * synced and empty, and listing goes on until the kind appears. Otherwise a 404 holds the sync (and
   * readiness) back like any other failure, since the operator cannot work without the kind.
   */
  optional?: boolean;
}

type WatchOutcome =
  | { kind: "closed"; events: number; durationMs: number }
  | { kind: "gone"; err: unknown }
  | { kind: "failed"; err: unknown };

/** A watch that delivered nothing for this long past its timeout is considered dead and restarted. */
const WATCHDOG_GRACE_MS = 60_000;

/** Keeps an up-to-date copy of all objects of one kind and tells handlers about every change. */
export class Informer {
  private store = new ObjectStore();
  private readonly handlers: InformerHandler[] = [];
  private readonly syncWaiters: Array<() => void> = [];
  private readonly opts: Required<Omit<InformerOptions, "logger">>;
  private readonly log: Logger;
  private resourceVersion = "";
  private synced = false;
  /** Aborted by stop(): ends the loops and cuts their waits short. */
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  /** Ends the running watch (and its watchOnce) at once. */
  private cancelWatch: (() => void) | undefined;

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  constructor(
    readonly gvk: GroupVersionKind,
    options: InformerOptions,
  ) {
    this.log = options.logger;
    this.opts = {
      backoff: DEFAULT_WATCH_BACKOFF,
      watchTimeoutSeconds: 300,
      pageSize: 500,
      random: Math.random,
      optional: false,
      ...options,
    };
  }

  /** True once the first list has completed; the cache answers from then on. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** resourceVersion of the last list, watch event or bookmark. */
  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Subscribes to changes; a handler added after sync is not told about existing objects (list them). */
  addHandler(handler: InformerHandler): void {
    this.handlers.push(handler);
  }

  /** The cached object with this key (shared; do not mutate). */
  get(key: ObjectKey): KubeObject | undefined {
    return this.store.get(key);
  }

  /** Cached objects of one namespace or all (shared; do not mutate). */
  list(namespace?: string): KubeObject[] {
    return this.store.list(namespace);
  }

  /** Starts listing and watching in the background. */
  start(): void {
    this.running ??= this.run();
  }

  /** Resolves once synced; rejects if the signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal?.reason ?? new Error("Stopped waiting for the informer to sync"));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /** Closes the watch and ends the background loop. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.cancelWatch?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
          failures = 0;
        } catch (err) {
          if (this.stopped) return;
          if (this.opts.optional && httpStatusOf(err) === 404) {
            // The apiserver does not serve the kind (a CRD that is not installed, such as the Gateway API's):
            // none of its objects exist, so the informer counts as synced and empty instead of holding every
            // controller back, and keeps listing until the kind appears.
            if (!this.synced)
              this.log.info(
                { kind: this.gvk.kind },
                `The apiserver does not serve ${this.gvk.kind}; caching none until it does`,
              );
            this.markSynced();
          } else {
            this.log.warn({ err, kind: this.gvk.kind }, `Failed to list ${this.gvk.kind} objects; retrying`);
          }
          await pause(backoffDelay(failures++, this.opts.backoff, this.opts.random), this.stopping.signal);
          continue;
        }
      }
      const outcome = await this.watchOnce();
      if (this.stopped) return;
      if (outcome.kind === "gone") {
        this.log.info(
          { kind: this.gvk.kind, resourceVersion: this.resourceVersion },
          `Watch of ${this.gvk.kind} objects expired; relisting`,
        );
        needList = true;
        continue;
      }
      if (outcome.kind === "closed" && (outcome.events > 0 || outcome.durationMs >= 1000)) {
        failures = 0;
        continue;
      }
      const err =
        outcome.kind === "failed" ? outcome.err : new Error("the watch closed at once without events");
      this.log.warn({ err, kind: this.gvk.kind }, `Watch of ${this.gvk.kind} objects dropped; reconnecting`);
      await pause(backoffDelay(failures++, this.opts.backoff, this.opts.random), this.stopping.signal);
    }
  }

  /** Lists everything and replaces the store, turning the difference into add, update and delete events. */
  private async relist(): Promise<void> {
    const fresh = new ObjectStore();
    let resourceVersion = "";
    let continueToken: string | undefined;
    do {
      const page = await this.opts.list({ limit: this.opts.pageSize, continue: continueToken });
      for (const obj of page.items) fresh.set(deepFreeze(obj));
      resourceVersion = page.resourceVersion;
      continueToken = page.continue || undefined;
    } while (continueToken && !this.stopped);
    if (this.stopped) return;
    const previous = this.store;
    this.store = fresh;
    this.resourceVersion = resourceVersion;
    this.log.debug(
      { kind: this.gvk.kind, count: fresh.size, resourceVersion },
      `Listed ${this.gvk.kind} objects`,
    );
    for (const obj of fresh.list()) {
      const old = previous.get(objectKey(obj));
      if (!old) this.emit((h) => h.onAdd(obj));
      else if (resourceVersionOf(old) !== resourceVersionOf(obj)) this.emit((h) => h.onUpdate(old, obj));
    }
    for (const old of previous.list()) {
      if (!fresh.get(objectKey(old))) this.emit((h) => h.onDelete(old));
    }
    this.markSynced();
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  /** Runs one watch from the current resourceVersion until it ends, applying its events to the store. */
  private watchOnce(): Promise<WatchOutcome> {
    if (this.stopped) return Promise.resolve({ kind: "closed", events: 0, durationMs: 0 });
    const started = performance.now();
    const timeoutSeconds = Math.floor(this.opts.watchTimeoutSeconds * (1 + this.opts.random()));
    return new Promise<WatchOutcome>((resolve) => {
      let events = 0;
      let settled = false;
      let handle: WatchHandle | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      const finish = (outcome: WatchOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        handle?.stop();
        this.cancelWatch = undefined;
        resolve(outcome);
      };
      const armWatchdog = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(
          () => finish({ kind: "failed", err: new Error(`the watch sent nothing for ${timeoutSeconds}s`) }),
          timeoutSeconds * 1000 + WATCHDOG_GRACE_MS,
        );
        watchdog.unref();
      };
      const onEvent = (type: string, obj: unknown) => {
        if (settled) return;
        events++;
        armWatchdog();
        const outcome = this.applyEvent(type, obj);
        if (outcome) finish(outcome);
      };
      const onDone = (err: unknown) => {
        if (err === null || err === undefined) {
          finish({ kind: "closed", events, durationMs: performance.now() - started });
        } else if (httpStatusOf(err) === 410) {
          finish({ kind: "gone", err });
        } else {
          finish({ kind: "failed", err });
        }
      };
      this.cancelWatch = () => finish({ kind: "closed", events, durationMs: performance.now() - started });
      armWatchdog();
      const request: WatchRequest = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      };
      this.opts.watch(request, onEvent, onDone).then(
        (h) => {
          handle = h;
          if (settled) h.stop();
        },
        (err: unknown) => onDone(err ?? new Error("the watch failed to start")),
      );
    });
  }

  /** Applies one watch event; returns an outcome when the event ends the watch (ERROR). */
  private applyEvent(type: string, raw: unknown): WatchOutcome | undefined {
    if (type === "ERROR") {
      const status = isStatus(raw) ? raw : undefined;
      const err = new ApiError(
        `WATCH ${this.gvk.plural}`,
        status?.code ?? 500,
        status?.reason || "WatchError",
        status,
      );
      return err.code === 410 ? { kind: "gone", err } : { kind: "failed", err };
    }
    if (typeof raw !== "object" || raw === null) return undefined;
    const obj = raw as KubeObject;
    if (typeof obj.metadata !== "object" || obj.metadata === null) return undefined;
    deepFreeze(obj);
    const rv = resourceVersionOf(obj);
    switch (type) {
      case "BOOKMARK":
        if (rv) this.resourceVersion = rv;
        return undefined;
      case "ADDED":
      case "MODIFIED": {
        const old = this.store.set(obj);
        if (rv) this.resourceVersion = rv;
        if (old) this.emit((h) => h.onUpdate(old, obj));
        else this.emit((h) => h.onAdd(obj));
        return undefined;
      }
      case "DELETED": {
        const old = this.store.delete(objectKey(obj));
        if (rv) this.resourceVersion = rv;
        this.emit((h) => h.onDelete(old ?? obj));
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private emit(call: (handler: InformerHandler) => void): void {
    for (const handler of this.handlers) call(handler);
  }
}

/** The HTTP status behind a list or watch failure; undefined when there was no answer. */
function httpStatusOf(err: unknown): number | undefined {
  return err instanceof ApiError ? err.code : undefined;
}

/**
 * Freezes an object and everything in it. The cache hands its objects to every reader without copying them
 * (copies of thousands of objects per reconcile were most of the operator's time), so nobody may change one.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
  return value;
}
