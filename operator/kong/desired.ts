/**
 * The desired Kong state as a pure function of the cached resources (DESIGN.md §4): each Api becomes a
 * service with its routes, auth, acl and extra plugins; each approved Subscription a consumer in the Api's
 * ACL group with its credentials, the Plan's rate limits and the Plan's plugins. Every entity carries
 * wicked's tags and an id derived from its natural key. Pure.
 */
import { createHash } from "node:crypto";
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
  private lastTags: { owner: ResourceRef; tags: string[] } | undefined;

  constructor(
    private readonly portal: ApiPortal,
    /** Values many subscriptions' entities share (an Api's service reference, a Plan's limits). */
    private readonly parts = new Map<object, unknown>(),
  ) {
    this.portalTagValue = portalTag(portal.metadata.namespace ?? "", nameOf(portal.metadata));
  }

  /** One value derived from a resource (one kind of value per resource) for every builder sharing `parts`. */
  shared<T>(of: Api | Plan, make: () => T): T {
    if (!this.parts.has(of)) this.parts.set(of, make());
    return this.parts.get(of) as T;
  }

  /** The tags of an owner's entities: one array for all of them (a subscription has four). */
  private tagsOf(owner: ResourceRef): string[] {
    if (this.lastTags?.owner !== owner)
      this.lastTags = { owner, tags: [MANAGED_TAG, this.portalTagValue, ownerTag(owner)] };
    return this.lastTags.tags;
  }

  id(key: string): string {
    return kongId(this.portal.metadata.namespace ?? "", nameOf(this.portal.metadata), key);
  }

  /** Adds an entity in a role (with the other resource or the index its description needs); returns its id. */
  add(
    role: Role,
    owner: ResourceRef,
    fields: JsonObject,
    about: { related?: ResourceRef; index?: number } = {},
  ): string {
    const entity = new DesiredEntity(role, owner, { ...fields, tags: this.tagsOf(owner) }, about, (key) =>
      this.id(key),
    );
    this.entities.push(entity);
    return entity.id;
  }
}

/**
 * What an entity is for (a subscription's consumer, an Api's route, …): its collection, and how its natural
 * key, label and origin follow from its owner, fields and `related`/`index`. Computed when asked, because
 * kept as strings on each entity they were 40% of the memory a subscription's entities hold between syncs,
 * and only the id derivation, errors and logs read them.
 */
interface Role {
  readonly collection: KongCollection;
  readonly sensitive: boolean;
  key(e: DesiredEntity): string;
  label(e: DesiredEntity): string;
  origin(e: DesiredEntity): EntityOrigin;
}

/** A desired entity: a KongStateEntity whose key, label and origin its role computes. */
class DesiredEntity implements KongStateEntity {
  readonly related: ResourceRef | undefined;
  readonly index: number | undefined;
  readonly id: string;

  constructor(
    private readonly role: Role,
    readonly owner: ResourceRef,
    readonly fields: JsonObject,
    about: { related?: ResourceRef; index?: number },
    idOf: (key: string) => string,
  ) {
    this.related = about.related;
    this.index = about.index;
    this.id = idOf(role.key(this));
  }

  get collection(): KongCollection {
    return this.role.collection;
  }

  get sensitive(): boolean {
    return this.role.sensitive;
  }

  get key(): string {
    return this.role.key(this);
  }

  get label(): string {
    return this.role.label(this);
  }

  get origin(): EntityOrigin {
    return this.role.origin(this);
  }

  /** `of Subscription shop/a`, as labels end. */
  get of(): string {
    return `of ${describeResource(this.owner)}`;
  }

  /** The related resource (an Api, a Plan); roles that use it always pass one. */
  get other(): ResourceRef {
    if (!this.related) throw new Error(`the ${this.collection} entity ${this.id} has no related resource`);
    return this.related;
  }

  get name(): string {
    return String(this.fields.name);
  }
}

const own = (e: DesiredEntity, field: string): EntityOrigin => ({ resource: e.owner, field });

const ROLES = {
  service: {
    collection: "services",
    sensitive: false,
    key: (e) => naturalKeys.service(e.owner),
    label: (e) => `service "${e.name}" ${e.of}`,
    origin: (e) => own(e, "spec.upstream"),
  },
  route: {
    collection: "routes",
    sensitive: false,
    key: (e) => naturalKeys.route(e.owner, e.index ?? 0),
    label: (e) => `route "${e.name}" ${e.of} (spec.routes[${e.index}])`,
    origin: (e) => own(e, `spec.routes[${e.index}]`),
  },
  /** A plugin the Api's auth implies (key-auth or jwt, and acl). */
  authPlugin: {
    collection: "plugins",
    sensitive: false,
    key: (e) => naturalKeys.servicePlugin(e.owner, e.name),
    label: (e) => `${e.name} plugin ${e.of}`,
    origin: (e) => own(e, "spec.auth"),
  },
  /** A plugin of the Api's spec.plugins. */
  apiPlugin: {
    collection: "plugins",
    sensitive: false,
    key: (e) => naturalKeys.servicePlugin(e.owner, e.name),
    label: (e) => `${e.name} plugin ${e.of}`,
    origin: (e) => own(e, `spec.plugins[name=${e.name}]`),
  },
  consumer: {
    collection: "consumers",
    sensitive: false,
    key: (e) => naturalKeys.consumer(e.owner),
    label: (e) => `consumer "${String(e.fields.username)}" ${e.of}`,
    origin: (e) => own(e, "metadata.name"),
  },
  acl: {
    collection: "acls",
    sensitive: false,
    key: (e) => naturalKeys.acl(e.owner),
    label: (e) => `ACL membership ${e.of} in the group of ${describeResource(e.other)}`,
    origin: (e) => own(e, "spec.apiRef"),
  },
  keyAuth: {
    collection: "key-auths",
    sensitive: true,
    key: (e) => naturalKeys.keyAuth(e.owner, String(e.fields.key)),
    label: (e) => `${e.index === 0 ? "current" : "previous"} API key ${e.of}`,
    origin: (e) => own(e, "spec.credentials"),
  },
  jwt: {
    collection: "jwts",
    sensitive: true,
    key: (e) => naturalKeys.jwt(e.owner),
    label: (e) => `jwt credential ${e.of}`,
    origin: (e) => own(e, "spec.credentials"),
  },
  rateLimits: {
    collection: "plugins",
    sensitive: false,
    key: (e) => naturalKeys.consumerPlugin(e.owner, "rate-limiting"),
    label: (e) => `rate-limiting plugin ${e.of} (limits of ${describeResource(e.other)})`,
    origin: (e) => ({ resource: e.other, field: "spec.rateLimits" }),
  },
  /** A plugin of the Plan's spec.plugins, per consumer. */
  planPlugin: {
    collection: "plugins",
    sensitive: false,
    key: (e) => naturalKeys.consumerPlugin(e.owner, e.name),
    label: (e) => `${e.name} plugin ${e.of} (from ${describeResource(e.other)})`,
    origin: (e) => ({ resource: e.other, field: `spec.plugins[name=${e.name}]` }),
  },
} satisfies Record<string, Role>;

function addApi(b: EntityBuilder, api: Api, upstream: string): void {
  const ref = refOf("Api", api);
  const serviceId = b.add(ROLES.service, ref, { name: serviceName(api), ...upstreamFields(upstream) });
  const service = { id: serviceId };
  api.spec.routes.forEach((route, i) => {
    const fields = {
      name: kongName("wicked", ref.namespace, ref.name, String(i)),
      service,
      protocols: ["http", "https"],
      paths: orNull(route.paths),
      hosts: orNull(route.hosts),
      methods: orNull(route.methods),
      strip_path: route.stripPath ?? true,
    };
    b.add(ROLES.route, ref, fields, { index: i });
  });
  const servicePlugin = (role: Role, plugin: string, config: JsonObject, enabled = true) =>
    b.add(role, ref, { name: plugin, service, route: null, consumer: null, config, enabled });
  const auth = authOf(api);
  if (auth === "key-auth") {
    const header = api.spec.auth?.keyHeader ?? DEFAULT_KEY_HEADER;
    servicePlugin(ROLES.authPlugin, "key-auth", { key_names: [header], hide_credentials: true });
  } else if (auth === "oauth2") {
    servicePlugin(ROLES.authPlugin, "jwt", {
      key_claim_name: JWT_KEY_CLAIM,
      claims_to_verify: ["exp"],
      header_names: ["authorization"],
      uri_param_names: [],
      cookie_names: [],
    });
  }
  if (auth !== "none") {
    servicePlugin(ROLES.authPlugin, "acl", { allow: [aclGroup(api)], hide_groups_header: true });
  }
  for (const plugin of api.spec.plugins ?? []) {
    servicePlugin(ROLES.apiPlugin, plugin.name, pluginConfig(plugin), plugin.enabled ?? true);
  }
}

const PERIODS = ["second", "minute", "hour", "day", "month"] as const;

function addSubscription(b: EntityBuilder, entry: DesiredSubscription): void {
  const { subscription, api, plan, credential } = entry;
  if (authOf(api) === "none") return;
  const ref = refOf("Subscription", subscription);
  const planRef = refOf("Plan", plan);
  const username = kongName("wicked", ref.namespace, ref.name);
  const consumerId = b.add(ROLES.consumer, ref, { username, custom_id: subscription.metadata.uid ?? null });
  const consumer = { id: consumerId };
  // The same strings and objects for every subscription of an Api or Plan, not a copy each.
  const apiParts = b.shared(api, () => ({
    group: aclGroup(api),
    service: { id: b.id(naturalKeys.service(refOf("Api", api))) },
  }));
  b.add(ROLES.acl, ref, { consumer, group: apiParts.group }, { related: refOf("Api", api) });
  if (credential.kind === "key-auth") {
    credential.keys.forEach((key, index) => {
      b.add(ROLES.keyAuth, ref, { consumer, key }, { index });
    });
  } else {
    const [publicKey] = credential.publicKeysPem;
    if (publicKey !== undefined) {
      b.add(ROLES.jwt, ref, {
        consumer,
        key: credential.clientId,
        algorithm: "RS256",
        rsa_public_key: publicKey,
      });
    }
  }
  const limits = plan.spec.rateLimits ?? {};
  if (PERIODS.some((p) => limits[p] !== undefined)) {
    const config = b.shared(plan, () => {
      const config: JsonObject = { limit_by: "consumer", policy: "local" };
      for (const period of PERIODS) config[period] = limits[period] ?? null;
      return config;
    });
    const fields = {
      name: "rate-limiting",
      service: apiParts.service,
      route: null,
      consumer,
      config,
      enabled: true,
    };
    b.add(ROLES.rateLimits, ref, fields, { related: planRef });
  }
  for (const plugin of plan.spec.plugins ?? []) {
    const fields = {
      name: plugin.name,
      service: null,
      route: null,
      consumer,
      config: pluginConfig(plugin),
      enabled: plugin.enabled ?? true,
    };
    b.add(ROLES.planPlugin, ref, fields, { related: planRef });
  }
}

/**
 * What a subscription's entities are a function of: the specs (by generation), the credential and the portal;
 * as a digest, which is a quarter of the size and holds no credential.
 */
function inputsOf(portal: ApiPortal, entry: DesiredSubscription): string {
  const version = (o: { metadata: { uid?: string; generation?: number } }) =>
    `${o.metadata.uid}@${o.metadata.generation}`;
  const c = entry.credential;
  const credential = c.kind === "key-auth" ? c.keys.join("\n") : `${c.clientId}\n${c.publicKeysPem[0]}`;
  const inputs = [
    portal.metadata.namespace,
    nameOf(portal.metadata),
    version(entry.subscription),
    version(entry.api),
    version(entry.plan),
    c.kind,
    credential,
  ].join("|");
  return createHash("sha256").update(inputs).digest("base64url");
}

/**
 * The entities of each subscription as last computed, reused while its inputs are unchanged: the entities
 * stay the same objects from sync to sync, so most of a large portal costs neither hashing nor comparing
 * (sync.ts takes an entity it left in Kong, itself, as in sync). One per portal, kept across syncs.
 */
export class SubscriptionEntities {
  private computed = new Map<string, { inputs: string; entities: KongStateEntity[] }>();

  /** The entities of each subscription, computing those whose inputs changed; forgets the others. */
  resolve(portal: ApiPortal, subscriptions: readonly DesiredSubscription[]): KongStateEntity[] {
    const next = new Map<string, { inputs: string; entities: KongStateEntity[] }>();
    const parts = new Map<object, unknown>();
    const all: KongStateEntity[] = [];
    for (const entry of subscriptions) {
      const key = entry.subscription.metadata.uid ?? nameOf(entry.subscription.metadata);
      const inputs = inputsOf(portal, entry);
      const before = this.computed.get(key);
      const entities =
        before?.inputs === inputs
          ? before.entities
          : subscriptionEntities(new EntityBuilder(portal, parts), entry);
      next.set(key, { inputs, entities });
      for (const entity of entities) all.push(entity);
    }
    this.computed = next;
    return all;
  }
}

function subscriptionEntities(b: EntityBuilder, entry: DesiredSubscription): KongStateEntity[] {
  addSubscription(b, entry);
  return b.entities;
}

/**
 * The Kong state the portal's resources ask for: entities keyed by id, each with tags, owner and origin.
 * With the memo of earlier calls, a subscription whose inputs did not change gets its earlier entities.
 */
export function desiredKongState(
  input: DesiredInput,
  memo: SubscriptionEntities = new SubscriptionEntities(),
): KongState {
  const builder = new EntityBuilder(input.portal);
  for (const api of input.apis) addApi(builder, api, input.resolveUpstream(api));
  return kongState([...builder.entities, ...memo.resolve(input.portal, input.subscriptions)]);
}
