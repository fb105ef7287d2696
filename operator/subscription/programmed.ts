/**
 * The gateway's verdict on each Subscription (is it in Kong, and if not why), kept in memory for the
 * Subscription controller, which writes it into the Subscription's status with everything else: one status
 * writer per Subscription, one write when a new one turns Active. The gateway records a verdict after each
 * sync; a changed verdict queues that Subscription.
 */
import { KeySource } from "../../controller-runtime/key-source.ts";
import { keyString, type ObjectKey } from "../../controller-runtime/types.ts";
import type { ConditionInput } from "../status.ts";

/** The Programmed conditions the gateway found, by Subscription. */
export class ProgrammedSubscriptions {
  private readonly verdicts = new Map<string, ConditionInput>();
  /** The Subscriptions whose verdict changed. */
  readonly changes = new KeySource();

  /** Records the gateway's verdict on a Subscription; queues it when the verdict changed. */
  set(key: ObjectKey, condition: ConditionInput): void {
    const id = keyString(key);
    const before = this.verdicts.get(id);
    if (
      before?.status === condition.status &&
      before.reason === condition.reason &&
      before.message === condition.message
    )
      return;
    this.verdicts.set(id, condition);
    this.changes.send(key);
  }

  /** The last verdict, or undefined before the gateway has synced the Subscription's portal. */
  get(key: ObjectKey): ConditionInput | undefined {
    return this.verdicts.get(keyString(key));
  }

  /** Forgets a Subscription that is gone. */
  delete(key: ObjectKey): void {
    this.verdicts.delete(keyString(key));
  }
}
