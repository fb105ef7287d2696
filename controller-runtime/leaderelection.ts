/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection package: only the
 * holder of the Lease reconciles; it renews every retry period and steps down when it could not renew within
 * the renew deadline; a candidate takes over once the Lease went unrenewed for its whole duration, measured
 * on the candidate's own clock (so clock skew between nodes does not matter); every write is conditional on
 * the resourceVersion read, so two candidates never both win.
 */
import type { Logger } from "pino";
import { pause } from "./backoff.ts";
import type { Client } from "./client.ts";
import { isAlreadyExists, isConflict } from "./errors.ts";
import { microTime } from "./time.ts";
import type { GroupVersionKind, KubeObject } from "./types.ts";

/** Where Leases live. */
export const LEASE_GVK: GroupVersionKind = {
  group: "coordination.k8s.io",
  version: "v1",
  kind: "Lease",
  plural: "leases",
};

/** The fields of a Lease's spec used for leader election (times are MicroTime strings). */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** A coordination.k8s.io/v1 Lease. */
export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/**
 * What a candidate last saw of the Lease and when, on its own monotonic clock. The Lease counts as expired
 * when it has not changed for leaseDurationSeconds since it was first seen in its current state.
 */
export interface LeaseObservation {
  /** The Lease's holder, renewTime and transitions, as a comparable string. */
  record: string;
  /** Monotonic time (ms) at which this record was first seen. */
  observedAtMs: number;
}

/** What to do with the Lease now. */
export type LeaseDecision =
  | { action: "create" }
  | { action: "renew" }
  | { action: "acquire" }
  | { action: "wait"; holder: string; expiresInMs: number };

/** Inputs of decideLease. */
export interface DecideLeaseInput {
  /** The Lease's spec, undefined when the Lease does not exist. */
  lease: LeaseSpec | undefined;
  identity: string;
  /** Monotonic time in ms. */
  nowMs: number;
  /** The previous observation, if any. */
  observation: LeaseObservation | undefined;
  /** Duration to assume when the Lease does not say. */
  leaseDurationSeconds: number;
}

/**
 * Decides, from the Lease and the clock, whether to create it, renew it (we hold it), acquire it (free,
 * released, or expired) or wait (someone else holds a valid Lease). Pure; returns the new observation.
 */
export function decideLease(input: DecideLeaseInput): {
  decision: LeaseDecision;
  observation?: LeaseObservation;
} {
  const { lease, identity, nowMs } = input;
  if (!lease) return { decision: { action: "create" } };
  const record = JSON.stringify([
    lease.holderIdentity ?? "",
    lease.renewTime ?? "",
    lease.leaseTransitions ?? 0,
  ]);
  const observation =
    input.observation?.record === record ? input.observation : { record, observedAtMs: nowMs };
  const holder = lease.holderIdentity ?? "";
  if (holder === identity) return { decision: { action: "renew" }, observation };
  if (holder === "") return { decision: { action: "acquire" }, observation };
  const durationMs = (lease.leaseDurationSeconds ?? input.leaseDurationSeconds) * 1000;
  const expiresInMs = observation.observedAtMs + durationMs - nowMs;
  if (expiresInMs <= 0) return { decision: { action: "acquire" }, observation };
  return { decision: { action: "wait", holder, expiresInMs }, observation };
}

/**
 * The Lease spec after creating, acquiring or renewing it as `identity` at `now`. leaseTransitions counts
 * changes of holder (taking over a released Lease included, as in client-go); acquireTime moves only when the
 * holder changes.
 */
export function nextLeaseSpec(
  previous: LeaseSpec | undefined,
  identity: string,
  now: Date,
  leaseDurationSeconds: number,
): LeaseSpec {
  const at = microTime(now);
  const sameHolder = previous?.holderIdentity === identity;
  const transitions = previous?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: sameHolder && previous?.acquireTime ? previous.acquireTime : at,
    renewTime: at,
    leaseTransitions: !previous || sameHolder ? transitions : transitions + 1,
  };
}

/**
 * The Lease spec of a graceful release: no holder and a one-second duration, so the next candidate takes over
 * at its next retry instead of waiting for the Lease to expire (client-go's ReleaseOnCancel).
 */
export function releasedLeaseSpec(previous: LeaseSpec | undefined, now: Date): LeaseSpec {
  const at = microTime(now);
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: at,
    renewTime: at,
    leaseTransitions: previous?.leaseTransitions ?? 0,
  };
}

/** Options of a LeaderElector. */
export interface LeaderElectorOptions {
  client: Client;
  logger: Logger;
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name plus a random suffix. */
  identity: string;
  /** How long a Lease is valid without renewal; 15 s by default. */
  leaseDurationSeconds?: number;
  /** How long the leader keeps trying to renew before it steps down; 10 s by default; below the duration. */
  renewDeadlineSeconds?: number;
  /** Time between attempts to acquire or renew; 2 s by default. */
  retryPeriodSeconds?: number;
  /** Called when this replica becomes leader. */
  onStartedLeading(): void;
  /** Called when this replica stops being leader (lost the Lease or stopped). */
  onStoppedLeading(): void;
  /** Monotonic clock in ms; performance.now by default. */
  monotonicNow?: () => number;
  /** Wall clock of the Lease timestamps. */
  now?: () => Date;
  random?: () => number;
}

/** Whether an attempt holds the Lease, and if not whether someone else does. */
type Attempt = "held" | "taken" | "failed";

/** Runs leader election for one replica. */
export class LeaderElector {
  private leader = false;
  /** Aborted by stop(): ends the loops and cuts their waits short. */
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private observation: LeaseObservation | undefined;
  /** Holder of the Lease before this replica's last successful write, for the log. */
  private previousHolder = "";
  private readonly durationS: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly monotonicNow: () => number;
  private readonly now: () => Date;
  private readonly random: () => number;

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  constructor(private readonly opts: LeaderElectorOptions) {
    this.durationS = opts.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = (opts.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (opts.retryPeriodSeconds ?? 2) * 1000;
    this.monotonicNow = opts.monotonicNow ?? (() => performance.now());
    this.now = opts.now ?? (() => new Date());
    this.random = opts.random ?? Math.random;
    if (this.renewDeadlineMs >= this.durationS * 1000) {
      throw new RangeError("The leader election renew deadline must be shorter than the lease duration");
    }
    if (this.retryMs >= this.renewDeadlineMs) {
      throw new RangeError("The leader election retry period must be shorter than the renew deadline");
    }
  }

  /** True while this replica holds the Lease. */
  get isLeader(): boolean {
    return this.leader;
  }

  /** Starts competing for the Lease in the background. */
  start(): void {
    this.running ??= this.run();
  }

  /**
   * Stops competing. A leader releases the Lease (so another replica takes over at once) and calls
   * onStoppedLeading. Call it after the work done as leader has finished.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    if (!this.leader) return;
    await this.release();
    this.stepDown();
  }

  private async run(): Promise<void> {
    let lastRenewMs = 0;
    while (!this.stopped) {
      if (!this.leader) {
        if ((await this.attempt(this.retryMs)) === "held") {
          lastRenewMs = this.monotonicNow();
          this.leader = true;
          // Stopped meanwhile: stop() releases the Lease just acquired.
          if (this.stopped) return;
          this.opts.logger.info(
            { lease: this.opts.name, identity: this.opts.identity, previousHolder: this.previousHolder },
            "Acquired Lease",
          );
          this.opts.onStartedLeading();
        }
        // client-go's JitterUntil: candidates spread their attempts by up to 1.2 retry periods.
        await pause(this.retryMs * (1 + 1.2 * this.random()), this.stopping.signal);
        continue;
      }
      const remaining = lastRenewMs + this.renewDeadlineMs - this.monotonicNow();
      const outcome = remaining > 0 ? await this.attempt(remaining) : "failed";
      if (this.stopped) return;
      if (outcome === "held") {
        lastRenewMs = this.monotonicNow();
      } else if (outcome === "taken" || this.monotonicNow() - lastRenewMs >= this.renewDeadlineMs) {
        this.opts.logger.warn(
          { lease: this.opts.name, identity: this.opts.identity, reason: outcome },
          outcome === "taken"
            ? "Lost Lease to another holder"
            : "Lost Lease: could not renew it within the renew deadline",
        );
        this.stepDown();
        continue;
      }
      await pause(this.retryMs, this.stopping.signal);
    }
  }

  private stepDown(): void {
    if (!this.leader) return;
    this.leader = false;
    this.opts.onStoppedLeading();
  }

  /** One try to acquire or renew, given up after timeoutMs. */
  private async attempt(timeoutMs: number): Promise<Attempt> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Attempt>((resolve) => {
      timer = setTimeout(() => resolve("failed"), timeoutMs);
    });
    try {
      return await Promise.race([this.tryAcquireOrRenew(), timeout]);
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) {
        this.opts.logger.warn({ err, lease: this.opts.name }, "Failed to acquire or renew Lease; retrying");
      }
      return "failed";
    } finally {
      clearTimeout(timer);
    }
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { client, namespace, name, identity } = this.opts;
    const lease = await client.get<Lease>(LEASE_GVK, { namespace, name });
    const { decision, observation } = decideLease({
      lease: lease?.spec,
      identity,
      nowMs: this.monotonicNow(),
      observation: this.observation,
      leaseDurationSeconds: this.durationS,
    });
    this.observation = observation;
    if (this.stopped && decision.action !== "renew") return "failed";
    switch (decision.action) {
      case "wait":
        return "taken";
      case "create":
        await client.create<Lease>({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { namespace, name },
          spec: nextLeaseSpec(undefined, identity, this.now(), this.durationS),
        });
        this.previousHolder = "";
        return "held";
      case "renew":
      case "acquire": {
        const updated = await client.patchMerge<Lease>(
          LEASE_GVK,
          { namespace, name },
          {
            metadata: { resourceVersion: lease?.metadata.resourceVersion },
            spec: nextLeaseSpec(lease?.spec, identity, this.now(), this.durationS),
          },
        );
        this.observation = undefined;
        this.previousHolder = lease?.spec?.holderIdentity ?? "";
        return updated.spec?.holderIdentity === identity ? "held" : "taken";
      }
    }
  }

  private async release(): Promise<void> {
    const { client, namespace, name, identity } = this.opts;
    try {
      const lease = await client.get<Lease>(LEASE_GVK, { namespace, name });
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      await client.patchMerge(
        LEASE_GVK,
        { namespace, name },
        {
          metadata: { resourceVersion: lease.metadata.resourceVersion },
          spec: releasedLeaseSpec(lease.spec, this.now()),
        },
      );
      this.opts.logger.info({ lease: name, identity }, "Released Lease");
    } catch (err) {
      // Not releasing only delays the next leader by one lease duration; shutting down must go on.
      this.opts.logger.warn(
        { err, lease: name },
        "Failed to release Lease; another replica takes over when it expires",
      );
    }
  }
}
