/**
 * The auth server's OAuth clients from the portal's read model: each OAuth2 subscription (an ApiClient
 * subscribed to an Api with auth type oauth2) whose credentials the operator has issued is a client, with the
 * id and secret from the Subscription's credentials Secret (`clientId`, `clientSecret`), the redirect URIs
 * and type of its ApiClient, and the grants its Api allows. Looked up on demand and cached briefly, so a
 * deleted subscription stops working within the cache time.
 */

import type { Kysely } from "kysely";
import type { ClientMetadata } from "oidc-provider";
import type { ApiClientSpec, ApiSpec } from "../api/v1alpha1/index.ts";
import type { Database } from "../db/schema.ts";

/** Reads a Secret of the portal's namespace. */
export interface SecretReader {
  readSecret(name: string): Promise<Record<string, string> | undefined>;
}

/** A client and the Api its tokens are for. */
export interface SubscriptionClient {
  metadata: ClientMetadata;
  /** The Api the subscription is for. */
  api: string;
  /** The Subscription's name. */
  subscription: string;
  /** The Api's scopes, read with the client: its tokens carry them, with no lookup per token. */
  scopes: string[];
}

/** Finds OAuth clients by id. */
export interface ClientDirectory {
  find(clientId: string): Promise<SubscriptionClient | undefined>;
}

/** One OAuth2 subscription as the read model has it. */
export interface SubscriptionClientRow {
  subscription: string;
  api: string;
  apiSpec: Pick<ApiSpec, "auth">;
  clientSpec: Pick<ApiClientSpec, "displayName" | "clientType" | "redirectUris">;
}

/** The client metadata of an OAuth2 subscription; pure. Undefined when no grant is left for it. */
export function clientMetadata(
  row: SubscriptionClientRow,
  credentials: { clientId: string; clientSecret?: string },
): ClientMetadata | undefined {
  const flows = row.apiSpec.auth?.flows ?? ["authorization_code", "client_credentials"];
  const isPublic = row.clientSpec.clientType === "public";
  const redirectUris = row.clientSpec.redirectUris ?? [];
  const grantTypes: string[] = [];
  if (flows.includes("authorization_code") && redirectUris.length > 0)
    grantTypes.push("authorization_code", "refresh_token");
  if (flows.includes("client_credentials") && !isPublic) grantTypes.push("client_credentials");
  if (grantTypes.length === 0) return undefined;
  if (!isPublic && !credentials.clientSecret) return undefined;
  const metadata: ClientMetadata = {
    client_id: credentials.clientId,
    client_name: row.clientSpec.displayName,
    grant_types: grantTypes,
    response_types: grantTypes.includes("authorization_code") ? ["code"] : [],
    redirect_uris: grantTypes.includes("authorization_code") ? redirectUris : [],
    token_endpoint_auth_method: isPublic ? "none" : "client_secret_basic",
  };
  if (!isPublic) metadata.client_secret = credentials.clientSecret;
  return metadata;
}

/** Options of the read-model directory. */
export interface ReadModelClientsOptions {
  db: Kysely<Database>;
  secrets: SecretReader;
  namespace: string;
  /** How long a lookup result is reused; default 10 s. */
  ttlMs?: number;
  /** Fewest milliseconds between reloads caused by unknown client ids (which anyone can send); default 2 s. */
  missReloadMs?: number;
  now?: () => number;
}

/**
 * The directory over the read model and the credentials Secrets. When it is older than ttlMs, a lookup
 * reloads all of it: the read model and every credentials Secret. An unknown client id, which anyone can
 * send, reloads it at most once per missReloadMs, and that reload reads only the Secrets of subscriptions new
 * since the last one, so a new subscription's client works at once. Concurrent lookups share one reload, and
 * a failed reload counts as one: until missReloadMs has passed, lookups answer from what is loaded, or fail
 * when that is older than ttlMs.
 */
export function readModelClients(opts: ReadModelClientsOptions): ClientDirectory {
  const ttl = opts.ttlMs ?? 10_000;
  const missReload = opts.missReloadMs ?? 2_000;
  const now = opts.now ?? Date.now;
  let byId = new Map<string, SubscriptionClient>();
  /** The credentials Secrets the last reload read, by name. */
  let secretData = new Map<string, Record<string, string>>();
  /** When the last full reload ended. */
  let loadedAt = Number.NEGATIVE_INFINITY;
  /** When the last reload started, whatever became of it. */
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let failure: unknown;
  let loading: Promise<void> | undefined;

  async function load(full: boolean): Promise<void> {
    const rows = await opts.db
      .selectFrom("subscriptions as s")
      .innerJoin("apis as a", (j) =>
        j.onRef("a.namespace", "=", "s.namespace").onRef("a.name", "=", "s.api_name"),
      )
      .innerJoin("clients as c", (j) =>
        j.onRef("c.namespace", "=", "s.namespace").onRef("c.name", "=", "s.client_name"),
      )
      .select(["s.name", "s.api_name", "s.credentials_secret", "a.spec as api_spec", "c.spec as client_spec"])
      .where("s.namespace", "=", opts.namespace)
      .where("a.auth", "=", "oauth2")
      .where("s.credentials_secret", "is not", null)
      .where((eb) => eb.or([eb("s.approved", "is", null), eb("s.approved", "=", true)]))
      .execute();
    const read = full ? new Map<string, Record<string, string>>() : secretData;
    const next = new Map<string, SubscriptionClient>();
    const nextData = new Map<string, Record<string, string>>();
    for (const row of rows) {
      if (!row.credentials_secret) continue;
      const data =
        read.get(row.credentials_secret) ?? (await opts.secrets.readSecret(row.credentials_secret));
      if (!data?.clientId) continue;
      nextData.set(row.credentials_secret, data);
      const apiSpec = row.api_spec as unknown as ApiSpec;
      const metadata = clientMetadata(
        {
          subscription: row.name,
          api: row.api_name,
          apiSpec,
          clientSpec: row.client_spec as unknown as ApiClientSpec,
        },
        { clientId: data.clientId, clientSecret: data.clientSecret },
      );
      if (!metadata) continue;
      const scopes = (apiSpec.auth?.scopes ?? []).map((s) => s.name);
      next.set(data.clientId, { metadata, api: row.api_name, subscription: row.name, scopes });
    }
    byId = next;
    secretData = nextData;
    if (full) loadedAt = now();
  }

  function reload(full: boolean): Promise<void> {
    attemptedAt = now();
    loading = load(full).then(
      () => {
        failure = undefined;
        loading = undefined;
      },
      (err: unknown) => {
        failure = err;
        loading = undefined;
        throw err;
      },
    );
    return loading;
  }

  return {
    async find(clientId) {
      const at = now();
      const stale = at - loadedAt > ttl;
      const wanted = stale || !byId.has(clientId);
      if (wanted && loading) await loading;
      else if (wanted && at - attemptedAt >= missReload) await reload(stale);
      else if (stale && failure) {
        throw new Error("The OAuth clients could not be loaded; the next try is in a moment.", {
          cause: failure,
        });
      }
      return byId.get(clientId);
    },
  };
}
