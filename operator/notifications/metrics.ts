/**
 * Prometheus metrics of notifications. Created before the manager (whose registry serves /metrics) exists,
 * and registered on that registry afterwards with register().
 */
import { Counter, Gauge, type Registry } from "prom-client";

/** The notification metrics. */
export class NotificationMetrics {
  /** Messages delivered, by channel (email, slack, teams, rocketchat) and kind. */
  readonly sent = new Counter({
    name: "wicked_notifications_sent_total",
    help: "Notifications delivered, by channel and kind",
    labelNames: ["channel", "kind"] as const,
    registers: [],
  });
  /** Failed delivery attempts (each is retried with backoff unless `permanent`). */
  readonly failed = new Counter({
    name: "wicked_notifications_failed_total",
    help: "Failed notification delivery attempts, by channel, kind and whether the failure was permanent",
    labelNames: ["channel", "kind", "permanent"] as const,
    registers: [],
  });
  /** Notifications not delivered yet, per portal. */
  readonly pending = new Gauge({
    name: "wicked_notifications_pending",
    help: "Notifications recorded in the ledger but not delivered yet, by portal (namespace/name)",
    labelNames: ["portal"] as const,
    registers: [],
  });
  /** Claims taken over after they expired: the message may have gone out before and is sent again. */
  readonly interrupted = new Counter({
    name: "wicked_notifications_interrupted_total",
    help: "Deliveries resumed after an interrupted attempt (sent again with the same Message-ID), by channel",
    labelNames: ["channel"] as const,
    registers: [],
  });

  /** Registers every metric on a registry, e.g. the manager's. */
  register(registry: Registry): void {
    registry.registerMetric(this.sent);
    registry.registerMetric(this.failed);
    registry.registerMetric(this.pending);
    registry.registerMetric(this.interrupted);
  }
}
