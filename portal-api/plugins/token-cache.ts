/**
 * Verified access tokens, remembered so a client that sends the same token on every request (the portal UI
 * does, for the token's lifetime) pays for one RS256 verification instead of one per request. The key is the
 * whole token, so only a string that verified can hit. An entry is used while its token is inside its
 * validity window (exp, nbf) and for at most maxAgeMs after it was verified, so a signing key withdrawn from
 * the auth server's JWKS stops working within that time (on top of the JWKS cache's own). Refusals are
 * never remembered, and beyond maxEntries the oldest entries go first.
 */

/** A verified token's validity window, in epoch seconds as in JWT claims. */
export interface TokenWindow {
  exp: number;
  nbf?: number;
}

interface Entry<T> {
  value: T;
  window: TokenWindow;
  /** Epoch milliseconds after which the entry is not used. */
  until: number;
}

/** What the cache remembers per token, and until when. */
export class TokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(opts: { maxEntries?: number; maxAgeMs?: number; now?: () => number } = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** The value remembered for `token`, if it is still valid now. */
  get(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    const now = this.now();
    const seconds = now / 1000;
    if (now < entry.until && seconds < entry.window.exp && (entry.window.nbf ?? 0) <= seconds) {
      return entry.value;
    }
    this.entries.delete(token);
    return undefined;
  }

  /** Remembers the value of a token that verified just now. */
  set(token: string, value: T, window: TokenWindow): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { value, window, until: this.now() + this.maxAgeMs });
  }
}
