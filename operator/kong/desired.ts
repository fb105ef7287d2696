/**
 * The desired Kong state as a pure function of the cached resources (DESIGN.md §4): each Api becomes a
 * service with its routes, auth, acl and extra plugins; each approved Subscription a consumer in the Api's
 * ACL group with its credentials, the Plan's rate limits and the Plan's plugins. Every entity carries
 * wicked's tags and an id derived from its natural key. Pure.
 */
import {
  type Api,
  type ApiPortal,
  DEFAULT_KEY_HEADER,
  type KongPluginSpec,
  type Plan,
  type Subscription,
} from "../../api/v1alpha1/index.ts";
import { credentialFingerprint, kongId, kongName } from "./ids.ts";
import {
  type EntityOrigin,
  type JsonObject,
  type JsonValue,
  type KongCollection,
  type KongState,
  type KongStateEntity,
  kongState,
} from "./state.ts";
import { describeResource, MANAGED_TAG, ownerTag, portalTag, type ResourceRef } from "./tags.ts";

/** The credential a subscription authenticates with at the gateway. */
export type SubscriptionCredential =
  /** API keys, current key first; during a rotation overlap also the previous key. */
  | { kind: "key-auth"; keys: string[] }
  /**
   * An OAuth2 client: tokens carry `client_id`; `publicKeysPem` are the RS256 public keys of the portal's
   * signing JWKS, current key first. Kong's jwt credential `key` is unique, so Kong OSS holds one public key per
   * client id: the first is programmed (see README.md, "Signing key rotation").
   */
  | { kind: "jwt"; clientId: string; publicKeysPem: string[] };

/** An approved, active subscription with what it refers to. */
export interface DesiredSubscription {
  subscription: Subscription;
  api: Api;
  plan: Plan;
  credential: SubscriptionCredential;
}

/** Everything the desired Kong state depends on. */
export interface DesiredInput {
  portal: ApiPortal;
  /** Apis whose references resolved. */
  apis: Api[];
  /** The portal's Plans. Plans have no Kong entity of their own: limits and plugins come with each subscription. */
  plans?: Plan[];
  /** Only approved, active subscriptions. Subscriptions to an Api with auth `none` get no consumer. */
  subscriptions: DesiredSubscription[];
  /** The URL of the Kong service of an Api (its upstream.url, or its resolved serviceRef). */
  resolveUpstream(api: Api): string;
}

/** The claim of the portal's access tokens that names the client, and so the Kong consumer. */
export const JWT_KEY_CLAIM = "client_id";

type Auth = "key-auth" | "oauth2" | "none";

function nameOf(meta: { name?: string }): string {
  return meta.name ?? "";
}

function refOf(
  kind: ResourceRef["kind"],
  obj: { metadata: { name?: string; namespace?: string } },
): ResourceRef {
  return { kind, namespace: obj.metadata.namespace ?? "", name: nameOf(obj.metadata) };
}

/** The auth type of an Api (key-auth unless it says otherwise). */
export function authOf(api: Api): Auth {
  return api.spec.auth?.type ?? "key-auth";
}

/** Name of the Kong service of an Api: `wicked.<namespace>.<name>`. */
export function serviceName(api: Api): string {
  const ref = refOf("Api", api);
  return kongName("wicked", ref.namespace, ref.name);
}

/** The ACL group of an Api: its consumers are members, its acl plugin allows only them. */
export function aclGroup(api: Api): string {
  return serviceName(api);
}

/** Natural keys: stable names of entities, from which their ids derive. They never contain a secret. */
export const naturalKeys = {
  service: (api: ResourceRef) => `service:${api.namespace}/${api.name}`,
  route: (api: ResourceRef, index: number) => `route:${api.namespace}/${api.name}#${index}`,
  servicePlugin: (api: ResourceRef, plugin: string) =>
    `plugin:${plugin}@service:${api.namespace}/${api.name}`,
  consumer: (sub: ResourceRef) => `consumer:${sub.namespace}/${sub.name}`,
  acl: (sub: ResourceRef) => `acl:${sub.namespace}/${sub.name}`,
  keyAuth: (sub: ResourceRef, key: string) =>
    `key-auth:${sub.namespace}/${sub.name}#${credentialFingerprint(key)}`,
  jwt: (sub: ResourceRef) => `jwt:${sub.namespace}/${sub.name}`,
  consumerPlugin: (sub: ResourceRef, plugin: string) =>
    `plugin:${plugin}@consumer:${sub.namespace}/${sub.name}`,
};

/** The Kong ids of an Api's service and routes, for its status; computed without asking Kong. */
export function kongIdsOfApi(portal: ApiPortal, api: Api): { serviceId: string; routeIds: string[] } {
  const ref = refOf("Api", api);
  const id = (key: string) => kongId(portal.metadata.namespace ?? "", nameOf(portal.metadata), key);
  return {
    serviceId: id(naturalKeys.service(ref)),
    routeIds: api.spec.routes.map((_, i) => id(naturalKeys.route(ref, i))),
  };
}

/** Splits an upstream URL into the fields Kong stores (Kong expands its `url` shorthand the same way). */
function upstreamFields(url: string): JsonObject {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Kong validates the shorthand and answers with a schema violation the user can act on.
    return { url };
  }
  const protocol = parsed.protocol.replace(/:$/, "");
  const port = parsed.port === "" ? (protocol === "https" ? 443 : 80) : Number(parsed.port);
  const path = parsed.pathname === "/" || parsed.pathname === "" ? null : parsed.pathname;
  return { protocol, host: parsed.hostname, port, path };
}

function orNull(list: readonly string[] | undefined): JsonValue {
  return list && list.length > 0 ? [...list] : null;
}

function pluginConfig(plugin: KongPluginSpec): JsonObject {
  return (plugin.config ?? {}) as JsonObject;
}

/** Builds entities of one portal: ids and tags are added here, so the mapping functions stay short. */
class EntityBuilder {
  readonly entities: KongStateEntity[] = [];
  private readonly portalTagValue: string;

  constructor(private readonly portal: ApiPortal) {
    this.portalTagValue = portalTag(portal.metadata.namespace ?? "", nameOf(portal.metadata));
  }

  id(key: string): string {
    return kongId(this.portal.metadata.namespace ?? "", nameOf(this.portal.metadata), key);
  }

  add(
    collection: KongCollection,
    key: string,
    owner: ResourceRef,
    label: string,
    fields: JsonObject,
    origin?: EntityOrigin,
    sensitive = false,
  ): string {
    const id = this.id(key);
    const tags = [MANAGED_TAG, this.portalTagValue, ownerTag(owner)];
    const entity: KongStateEntity = {
      collection,
      id,
      key,
      owner,
      label,
      fields: { ...fields, tags },
      sensitive,
      ...(origin ? { origin } : {}),
    };
    this.entities.push(entity);
    return id;
  }
}

function addApi(b: EntityBuilder, api: Api, upstream: string): void {
  const ref = refOf("Api", api);
  const of = `of ${describeResource(ref)}`;
  const name = serviceName(api);
  const serviceId = b.add(
    "services",
    naturalKeys.service(ref),
    ref,
    `service "${name}" ${of}`,
    { name, ...upstreamFields(upstream) },
    { resource: ref, field: "spec.upstream" },
  );
  const service = { id: serviceId };
  api.spec.routes.forEach((route, i) => {
    const routeName = kongName("wicked", ref.namespace, ref.name, String(i));
    b.add(
      "routes",
      naturalKeys.route(ref, i),
      ref,
      `route "${routeName}" ${of} (spec.routes[${i}])`,
      {
        name: routeName,
        service,
        protocols: ["http", "https"],
        paths: orNull(route.paths),
        hosts: orNull(route.hosts),
        methods: orNull(route.methods),
        strip_path: route.stripPath ?? true,
      },
      { resource: ref, field: `spec.routes[${i}]` },
    );
  });
  const servicePlugin = (plugin: string, config: JsonObject, enabled: boolean, field: string) =>
    b.add(
      "plugins",
      naturalKeys.servicePlugin(ref, plugin),
      ref,
      `${plugin} plugin ${of}`,
      { name: plugin, service, route: null, consumer: null, config, enabled },
      { resource: ref, field },
    );
  const auth = authOf(api);
  if (auth === "key-auth") {
    const header = api.spec.auth?.keyHeader ?? DEFAULT_KEY_HEADER;
    servicePlugin("key-auth", { key_names: [header], hide_credentials: true }, true, "spec.auth");
  } else if (auth === "oauth2") {
    servicePlugin(
      "jwt",
      {
        key_claim_name: JWT_KEY_CLAIM,
        claims_to_verify: ["exp"],
        header_names: ["authorization"],
        uri_param_names: [],
        cookie_names: [],
      },
      true,
      "spec.auth",
    );
  }
  if (auth !== "none") {
    servicePlugin("acl", { allow: [aclGroup(api)], hide_groups_header: true }, true, "spec.auth");
  }
  for (const plugin of api.spec.plugins ?? []) {
    servicePlugin(
      plugin.name,
      pluginConfig(plugin),
      plugin.enabled ?? true,
      `spec.plugins[name=${plugin.name}]`,
    );
  }
}

const PERIODS = ["second", "minute", "hour", "day", "month"] as const;

function addSubscription(b: EntityBuilder, entry: DesiredSubscription): void {
  const { subscription, api, plan, credential } = entry;
  if (authOf(api) === "none") return;
  const ref = refOf("Subscription", subscription);
  const planRef = refOf("Plan", plan);
  const of = `of ${describeResource(ref)}`;
  const username = kongName("wicked", ref.namespace, ref.name);
  const uid = subscription.metadata.uid;
  const consumerId = b.add(
    "consumers",
    naturalKeys.consumer(ref),
    ref,
    `consumer "${username}" ${of}`,
    { username, custom_id: uid ?? null },
    { resource: ref, field: "metadata.name" },
  );
  const consumer = { id: consumerId };
  b.add(
    "acls",
    naturalKeys.acl(ref),
    ref,
    `ACL membership ${of} in the group of ${describeResource(refOf("Api", api))}`,
    { consumer, group: aclGroup(api) },
    { resource: ref, field: "spec.apiRef" },
  );
  if (credential.kind === "key-auth") {
    credential.keys.forEach((key, i) => {
      b.add(
        "key-auths",
        naturalKeys.keyAuth(ref, key),
        ref,
        `${i === 0 ? "current" : "previous"} API key ${of}`,
        { consumer, key },
        { resource: ref, field: "spec.credentials" },
        true,
      );
    });
  } else {
    const [publicKey] = credential.publicKeysPem;
    if (publicKey !== undefined) {
      b.add(
        "jwts",
        naturalKeys.jwt(ref),
        ref,
        `jwt credential ${of}`,
        { consumer, key: credential.clientId, algorithm: "RS256", rsa_public_key: publicKey },
        { resource: ref, field: "spec.credentials" },
        true,
      );
    }
  }
  const limits = plan.spec.rateLimits ?? {};
  if (PERIODS.some((p) => limits[p] !== undefined)) {
    const config: JsonObject = { limit_by: "consumer", policy: "local" };
    for (const period of PERIODS) config[period] = limits[period] ?? null;
    b.add(
      "plugins",
      naturalKeys.consumerPlugin(ref, "rate-limiting"),
      ref,
      `rate-limiting plugin ${of} (limits of ${describeResource(planRef)})`,
      {
        name: "rate-limiting",
        service: { id: b.id(naturalKeys.service(refOf("Api", api))) },
        route: null,
        consumer,
        config,
        enabled: true,
      },
      { resource: planRef, field: "spec.rateLimits" },
    );
  }
  for (const plugin of plan.spec.plugins ?? []) {
    b.add(
      "plugins",
      naturalKeys.consumerPlugin(ref, plugin.name),
      ref,
      `${plugin.name} plugin ${of} (from ${describeResource(planRef)})`,
      {
        name: plugin.name,
        service: null,
        route: null,
        consumer,
        config: pluginConfig(plugin),
        enabled: plugin.enabled ?? true,
      },
      { resource: planRef, field: `spec.plugins[name=${plugin.name}]` },
    );
  }
}

/** The Kong state the portal's resources ask for: entities keyed by id, each with tags, owner and origin. */
export function desiredKongState(input: DesiredInput): KongState {
  const builder = new EntityBuilder(input.portal);
  for (const api of input.apis) addApi(builder, api, input.resolveUpstream(api));
  for (const entry of input.subscriptions) addSubscription(builder, entry);
  return kongState(builder.entities);
}
