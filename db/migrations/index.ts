import { initial } from "./0001_initial.ts";
import { notificationDelivery } from "./0002_notification_delivery.ts";
import { verificationPassword } from "./0003_verification_password.ts";
import { oidcAccountIndex } from "./0004_oidc_account_index.ts";
import type { SchemaMigration } from "./types.ts";

export type { SchemaMigration } from "./types.ts";

/**
 * Every migration, by name, in the order they apply. A static record rather than a directory scan, so the
 * migrations travel inside a bundled image. A new migration gets the next four-digit prefix and is added at
 * the end; a released one is never renamed, reordered or changed.
 */
export const migrations: Readonly<Record<string, SchemaMigration>> = Object.freeze({
  "0001_initial": initial,
  "0002_notification_delivery": notificationDelivery,
  "0003_verification_password": verificationPassword,
  "0004_oidc_account_index": oidcAccountIndex,
});
