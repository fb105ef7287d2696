/**
 * Keys one part of the process hands to a controller, like controller-runtime's channel source: the gateway
 * tells the Subscription controller which subscriptions it programmed, so that one controller writes each
 * Subscription's status instead of two.
 */
import type { ObjectKey } from "./types.ts";

/** A stream of keys a controller can watch (ControllerOptions.sources). */
export class KeySource {
  private readonly listeners: Array<(key: ObjectKey) => void> = [];

  /** Calls `listener` with every key sent from now on. */
  subscribe(listener: (key: ObjectKey) => void): void {
    this.listeners.push(listener);
  }

  /** Hands `key` to every subscriber. */
  send(key: ObjectKey): void {
    for (const listener of this.listeners) listener(key);
  }
}
