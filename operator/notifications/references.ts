/**
 * Bookkeeping of the delivery controller. Which portals read which Secrets and ConfigMaps, learnt from the portals the delivery controller
 * reconciles, so a change to a mail or webhook Secret or the template ConfigMap wakes the portal at once
 * instead of at its next poll.
 */
import type { KubeObject, ObjectKey } from "../../controller-runtime/types.ts";

/** An index from `namespace/name` of a Secret or ConfigMap to the portals that read it. */
export class PortalReferences {
  private readonly byObject = new Map<string, Map<string, ObjectKey>>();
  private readonly byPortal = new Map<string, string[]>();

  /** Records what a portal reads now, replacing what it read before (`[]` when it is gone). */
  set(portal: ObjectKey, objects: readonly string[]): void {
    const id = `${portal.namespace}/${portal.name}`;
    for (const old of this.byPortal.get(id) ?? []) this.byObject.get(old)?.delete(id);
    this.byPortal.set(id, [...objects]);
    for (const obj of objects) {
      let portals = this.byObject.get(obj);
      if (!portals) {
        portals = new Map();
        this.byObject.set(obj, portals);
      }
      portals.set(id, portal);
    }
  }

  /** The portals reading an object. */
  portalsReading(obj: KubeObject, kind: "Secret" | "ConfigMap"): ObjectKey[] {
    const id = `${kind}:${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
    return [...(this.byObject.get(id)?.values() ?? [])];
  }
}

/**
 * Lets a repeated Event through at most once per window, so an outage that fails every retry does not
 * write an Event (or patch its series) on every pass.
 */
export class EventThrottle {
  private readonly last = new Map<string, number>();

  constructor(private readonly windowMs = 60_000) {}

  /** Whether an Event with this key may be recorded at `now` (ms); records it if so. */
  admit(key: string, now: number): boolean {
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < this.windowMs) return false;
    this.last.set(key, now);
    if (this.last.size > 1024) {
      const oldest = this.last.keys().next();
      if (!oldest.done) this.last.delete(oldest.value);
    }
    return true;
  }
}
