// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// Fault injection on the Admin API, so tests can prove that the sync engine retries transient failures.
import { type RandomSource, seededRandom } from "./random.ts";

/** The 5xx statuses a test can inject. */
export type FaultStatus = 500 | 502 | 503;

/** The fault controls a test holds (`double.faults`). */
export interface AdminFaults {
  /** Answers the next `count` Admin API requests with `status` (default 500) without executing them. */
  failNext(count: number, status?: FaultStatus): void;
  /** Answers each Admin API request with `status` (default 500) with this probability, drawn from the seeded source. */
  failRate(probability: number, status?: FaultStatus): void;
  /** Delays every Admin API answer by `ms` milliseconds. */
  delay(ms: number): void;
  /** Restarts the random source used by `failRate`, so a sequence of outcomes can be replayed. */
  reseed(seed: number): void;
  /** Closes the Admin API listening socket and destroys open connections: clients get ECONNREFUSED. */
  refuseConnections(): Promise<void>;
  /** Listens again on the same port after `refuseConnections`. */
  acceptConnections(): Promise<void>;
  /** Removes every fault and accepts connections again. */
  clear(): Promise<void>;
  /** How many 5xx answers were injected so far. */
  readonly injected: number;
}

/** What to do with one request. */
export interface FaultDecision {
  readonly delayMs: number;
  readonly failWith?: FaultStatus;
}

/** Opens and closes the listening socket for `refuseConnections` and `acceptConnections`. */
export interface ConnectionSwitch {
  refuse(): Promise<void>;
  accept(): Promise<void>;
}

/** Holds the configured faults and decides, request by request, which one applies. */
export class FaultInjector implements AdminFaults {
  private random: RandomSource;
  private remaining = 0;
  private remainingStatus: FaultStatus = 500;
  private probability = 0;
  private probabilityStatus: FaultStatus = 500;
  private delayMs = 0;
  private injectedCount = 0;

  /** Creates an injector without faults whose random source starts at `seed`. */
  constructor(
    private readonly seed: number,
    private readonly connections: ConnectionSwitch,
  ) {
    this.random = seededRandom(seed);
  }

  /** {@inheritDoc AdminFaults.injected} */
  get injected(): number {
    return this.injectedCount;
  }

  /** {@inheritDoc AdminFaults.failNext} */
  failNext(count: number, status: FaultStatus = 500): void {
    this.remaining = count;
    this.remainingStatus = status;
  }

  /** {@inheritDoc AdminFaults.failRate} */
  failRate(probability: number, status: FaultStatus = 500): void {
    if (probability < 0 || probability > 1) throw new RangeError("probability must be between 0 and 1");
    this.probability = probability;
    this.probabilityStatus = status;
  }

  /** {@inheritDoc AdminFaults.delay} */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  /** {@inheritDoc AdminFaults.reseed} */
  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /** {@inheritDoc AdminFaults.refuseConnections} */
  refuseConnections(): Promise<void> {
    return this.connections.refuse();
  }

  /** {@inheritDoc AdminFaults.acceptConnections} */
  acceptConnections(): Promise<void> {
    return this.connections.accept();
  }

  /** {@inheritDoc AdminFaults.clear} */
  async clear(): Promise<void> {
    this.remaining = 0;
    this.probability = 0;
    this.delayMs = 0;
    this.random = seededRandom(this.seed);
    await this.connections.accept();
  }

  /** Decides the fault for the next request; counts injected answers. */
  decide(): FaultDecision {
    let failWith: FaultStatus | undefined;
    if (this.remaining > 0) {
      this.remaining -= 1;
      failWith = this.remainingStatus;
    } else if (this.probability > 0 && this.random() < this.probability) {
      failWith = this.probabilityStatus;
    }
    if (failWith !== undefined) this.injectedCount += 1;
    return failWith === undefined ? { delayMs: this.delayMs } : { delayMs: this.delayMs, failWith };
  }
}
