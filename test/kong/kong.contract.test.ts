// The Kong Admin API and proxy contract that wicked relies on (/work/shared/KONG.md). Each test names the
// KONG.md fact it checks. It runs against the test double (kong-double.ts) by default, and against a real Kong
// 3.x when KONG_ADMIN_URL and KONG_PROXY_URL are set (KONG_UPSTREAM_HOST: how Kong reaches this machine); then
// it only touches entities tagged for this run and skips the tests of double-only controls.
// Test titles start with the KONG.md section (and bullet) whose fact they check, e.g. [Behaviour/Pagination].
import { generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CallOptions,
  type ContractTarget,
  deleteTagged,
  type EchoServer,
  echoed,
  eventually,
  type HttpResult,
  httpCall,
  listData,
  signJwt,
  startEchoServer,
  startTarget,
  unusedPort,
} from "./contract-support.ts";
import type { JsonObject } from "./json.ts";

const RUN = `wicked-contract-${randomUUID().slice(0, 8)}`;
const real = Boolean(process.env.KONG_ADMIN_URL && process.env.KONG_PROXY_URL);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let target: ContractTarget;
let echo: EchoServer;

function named(suffix: string): string {
  return `${RUN}-${suffix}`;
}

function admin(method: string, path: string, body?: JsonObject): Promise<HttpResult> {
  return httpCall(target.adminUrl, method, path, body === undefined ? {} : { body });
}

function proxy(path: string, options: CallOptions & { method?: string } = {}): Promise<HttpResult> {
  return httpCall(target.proxyUrl, options.method ?? "GET", path, options);
}

async function created(path: string, body: JsonObject): Promise<JsonObject> {
  const res = await admin("POST", path, { tags: [RUN], ...body });
  expect(res.status, res.text).toBe(201);
  return res.json as JsonObject;
}

async function echoService(suffix: string, extra: JsonObject = {}): Promise<JsonObject> {
  return created("/services", { name: named(suffix), url: `http://${echo.host}:${echo.port}`, ...extra });
}

beforeAll(async () => {
  target = await startTarget();
  echo = await startEchoServer();
}, 30_000);

afterAll(async () => {
  if (target?.real) await deleteTagged(target.adminUrl, RUN);
  await echo?.stop();
  await target?.stop();
}, 120_000);

describe("Admin API: node", () => {
  it("[Node (GET /)] GET / reports a Kong 3.x node with a database and the bundled key-auth, jwt, acl and rate-limiting", async () => {
    const res = await admin("GET", "/");
    expect(res.status).toBe(200);
    const info = res.json as JsonObject;
    expect(String(info.version)).toMatch(/^3\./);
    const configuration = info.configuration as JsonObject;
    expect(configuration.database).not.toBe("off");
    if (!real) expect(configuration.database).toBe("postgres");
    const available = (info.plugins as JsonObject).available_on_server as JsonObject;
    for (const plugin of ["key-auth", "jwt", "acl", "rate-limiting"])
      expect(available).toHaveProperty(plugin);
  });

  it("[Node (GET /status)] GET /status answers 200 with a reachable database", async () => {
    const res = await admin("GET", "/status");
    expect(res.status).toBe(200);
    expect((res.json as JsonObject).database).toEqual({ reachable: true });
  });
});

describe("Admin API: services", () => {
  it("[Entities/services, Responses] POST answers 201 with every field (null when unset), defaults, a uuid id and created_at in epoch seconds", async () => {
    const service = await created("/services", { name: named("svc-defaults"), host: "example.com" });
    expect(service).toMatchObject({
      name: named("svc-defaults"),
      host: "example.com",
      protocol: "http",
      port: 80,
      path: null,
      retries: 5,
      connect_timeout: 60000,
      read_timeout: 60000,
      write_timeout: 60000,
      client_certificate: null,
      tls_verify: null,
      tls_verify_depth: null,
      ca_certificates: null,
      enabled: true,
      tags: [RUN],
    });
    expect(String(service.id)).toMatch(UUID);
    const nowSeconds = target.nowMs() / 1000;
    expect(Math.abs(Number(service.created_at) - nowSeconds)).toBeLessThan(120);
    expect(Number.isInteger(service.created_at)).toBe(true);
    expect(Number.isInteger(service.updated_at)).toBe(true);
  });

  it("[Entities/services] the url shorthand sets protocol, host, port and path (port from the scheme when absent)", async () => {
    const withPort = await created("/services", {
      name: named("svc-url1"),
      url: "https://api.example.com:8443/v1",
    });
    expect(withPort).toMatchObject({ protocol: "https", host: "api.example.com", port: 8443, path: "/v1" });
    const plain = await created("/services", { name: named("svc-url2"), url: "https://api.example.com" });
    expect(plain).toMatchObject({ protocol: "https", host: "api.example.com", port: 443, path: null });
    expect(plain).not.toHaveProperty("url");
  });

  it("[Behaviour/Status codes, Errors (404)] GET answers 200 by id and by name, and 404 {message: Not found} for an unknown one", async () => {
    const service = await created("/services", { name: named("svc-get"), host: "example.com" });
    expect((await admin("GET", `/services/${String(service.id)}`)).json).toEqual(service);
    expect((await admin("GET", `/services/${named("svc-get")}`)).json).toEqual(service);
    for (const key of [randomUUID(), named("svc-missing")]) {
      const res = await admin("GET", `/services/${key}`);
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ message: "Not found" });
    }
  });

  it("[Behaviour/Status codes] PATCH answers 200 and changes only the given fields", async () => {
    const service = await created("/services", { name: named("svc-patch"), host: "example.com", retries: 2 });
    const res = await admin("PATCH", `/services/${named("svc-patch")}`, { port: 8080 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: service.id, port: 8080, retries: 2, host: "example.com" });
    expect((await admin("PATCH", `/services/${randomUUID()}`, { port: 1 })).status).toBe(404);
  });

  it("[Behaviour/PUT upsert] PUT on /services/{name} is an upsert: creates (200), then replaces, keeping id and resetting omitted fields", async () => {
    const name = named("svc-put");
    const first = await admin("PUT", `/services/${name}`, {
      host: "one.example.com",
      retries: 1,
      tags: [RUN],
    });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ name, host: "one.example.com", retries: 1 });
    const second = await admin("PUT", `/services/${name}`, { host: "two.example.com", tags: [RUN] });
    expect(second.status).toBe(200);
    const replaced = second.json as JsonObject;
    expect(replaced).toMatchObject({
      id: (first.json as JsonObject).id,
      name,
      host: "two.example.com",
      retries: 5,
    });
    expect(replaced.created_at).toBe((first.json as JsonObject).created_at);
  });

  it("[Behaviour/PUT upsert] PUT on /services/{uuid} creates the service with that id", async () => {
    const id = randomUUID();
    const res = await admin("PUT", `/services/${id}`, {
      name: named("svc-put-id"),
      host: "example.com",
      tags: [RUN],
    });
    expect(res.status).toBe(200);
    expect((res.json as JsonObject).id).toBe(id);
  });

  it("[Behaviour/Status codes (DELETE)] DELETE answers 204, also when the service does not exist", async () => {
    const service = await created("/services", { name: named("svc-delete"), host: "example.com" });
    const res = await admin("DELETE", `/services/${String(service.id)}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await admin("GET", `/services/${String(service.id)}`)).status).toBe(404);
    expect((await admin("DELETE", `/services/${String(service.id)}`)).status).toBe(204);
    expect((await admin("DELETE", `/services/${named("never-existed")}`)).status).toBe(204);
  });

  it("[Behaviour/Errors] Errors: a service without host is a 400 schema violation with Kong's exact body", async () => {
    const res = await admin("POST", "/services", { name: named("svc-nohost"), tags: [RUN] });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 2,
      name: "schema violation",
      message: "schema violation (host: required field missing)",
      fields: { host: "required field missing" },
    });
  });

  it("[Behaviour/Errors, Entities/services (name)] Errors: several violations are 'N schema violations (a; b)', unknown keys are 'unknown field', names are [A-Za-z0-9._~-]", async () => {
    const res = await admin("POST", "/services", {
      name: "bad name",
      host: "example.com",
      port: 70000,
      colour: "red",
    });
    expect(res.status).toBe(400);
    const nameError =
      "invalid value 'bad name': the only accepted ascii characters are alphanumerics or ., -, _, and ~";
    expect(res.json).toEqual({
      code: 2,
      name: "schema violation",
      message: `3 schema violations (colour: unknown field; name: ${nameError}; port: value should be between 0 and 65535)`,
      fields: { colour: "unknown field", name: nameError, port: "value should be between 0 and 65535" },
    });
  });

  it("[Entities/services (name unique), Behaviour/Errors (409)] Errors: service names are unique: a second one is a 409 unique constraint violation", async () => {
    const name = named("svc-unique");
    await created("/services", { name, host: "example.com" });
    const res = await admin("POST", "/services", { name, host: "other.example.com", tags: [RUN] });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{name="${name}"}'`,
      fields: { name },
    });
  });
});

describe("Admin API: routes", () => {
  it("[Entities/routes, Behaviour/Errors (@entity)] an http route needs one of methods, hosts, headers, paths (entity-level error under @entity)", async () => {
    const https = await admin("POST", "/routes", { name: named("rt-empty"), tags: [RUN] });
    const message =
      "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'";
    expect(https.status).toBe(400);
    expect(https.json).toEqual({
      code: 2,
      name: "schema violation",
      message: `schema violation (${message})`,
      fields: { "@entity": [message] },
    });
    const http = await admin("POST", "/routes", { protocols: ["http"], tags: [RUN] });
    expect(http.status).toBe(400);
    expect((http.json as JsonObject).fields).toEqual({
      "@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"],
    });
  });

  it("[Entities/routes] routes default to protocols [http, https], strip_path true, preserve_host false, regex_priority 0, path_handling v0", async () => {
    const service = await created("/services", { name: named("rt-defaults"), host: "example.com" });
    const route = await created(`/services/${named("rt-defaults")}/routes`, { paths: [`/${RUN}/defaults`] });
    expect(route).toMatchObject({
      protocols: ["http", "https"],
      strip_path: true,
      preserve_host: false,
      regex_priority: 0,
      https_redirect_status_code: 426,
      path_handling: "v0",
      methods: null,
      hosts: null,
      headers: null,
      name: null,
      service: { id: service.id },
    });
  });

  it("[Entities and paths] routes nest under their service: /services/{name}/routes lists the service's routes only", async () => {
    const service = await created("/services", { name: named("rt-nested"), host: "example.com" });
    const route = await created(`/services/${named("rt-nested")}/routes`, { paths: [`/${RUN}/nested`] });
    const list = await admin("GET", `/services/${named("rt-nested")}/routes`);
    expect(list.status).toBe(200);
    expect(listData(list).map((r) => r.id)).toEqual([route.id]);
    expect((await admin("GET", `/services/${String(service.id)}/routes/${String(route.id)}`)).status).toBe(
      200,
    );
  });

  it("[Entities/routes (foreign keys)] a route can reference its service by name ({name}), and a missing name is 400 'foreign keys unresolved'", async () => {
    const service = await created("/services", { name: named("rt-byname"), host: "example.com" });
    const route = await created("/routes", {
      paths: [`/${RUN}/byname`],
      service: { name: named("rt-byname") },
    });
    expect(route.service).toEqual({ id: service.id });
    const missing = named("rt-no-such-service");
    const res = await admin("POST", "/routes", { paths: ["/x"], service: { name: missing }, tags: [RUN] });
    const why = `the foreign key cannot be resolved with '{name="${missing}"}' for an existing 'services' entity`;
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 13,
      name: "foreign keys unresolved",
      message: `foreign key unresolved (service.name: ${why})`,
      fields: { service: { name: why } },
    });
  });

  it("[Entities/routes (foreign keys)] a route referencing a service id that does not exist is a 400 foreign key violation (code 4)", async () => {
    const id = randomUUID();
    const res = await admin("POST", "/routes", { paths: ["/x"], service: { id }, tags: [RUN] });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 4,
      name: "foreign key violation",
      message: `the foreign key '{id="${id}"}' does not reference an existing 'services' entity.`,
      fields: { service: { id } },
    });
  });

  it("[Entities/routes (name unique)] route names are unique (409)", async () => {
    const name = named("rt-unique");
    await created("/routes", { name, paths: [`/${RUN}/unique1`] });
    const res = await admin("POST", "/routes", { name, paths: [`/${RUN}/unique2`], tags: [RUN] });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ code: 5, message: `UNIQUE violation detected on '{name="${name}"}'` });
  });

  it("[Entities/routes (restricted delete)] deleting a service that routes still reference is refused with 400 (code 4, @referenced_by routes)", async () => {
    const service = await created("/services", { name: named("rt-restrict"), host: "example.com" });
    await created(`/services/${String(service.id)}/routes`, { paths: [`/${RUN}/restrict`] });
    const res = await admin("DELETE", `/services/${String(service.id)}`);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 4,
      name: "foreign key violation",
      message: "an existing 'routes' entity references this 'services' entity",
      fields: { "@referenced_by": "routes" },
    });
    expect((await admin("GET", `/services/${String(service.id)}`)).status).toBe(200);
  });
});

describe("Admin API: consumers and credentials", () => {
  it("[Entities/consumers, Behaviour/Errors (@entity)] a consumer needs username or custom_id (entity-level error)", async () => {
    const res = await admin("POST", "/consumers", { tags: [RUN] });
    const message = "at least one of these fields must be non-empty: 'custom_id', 'username'";
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 2,
      name: "schema violation",
      message: `schema violation (${message})`,
      fields: { "@entity": [message] },
    });
  });

  it("[Entities/consumers (unique)] username and custom_id are each unique (409)", async () => {
    await created("/consumers", { username: named("c-user"), custom_id: named("c-custom") });
    const byUsername = await admin("POST", "/consumers", { username: named("c-user"), tags: [RUN] });
    expect(byUsername.status).toBe(409);
    expect(byUsername.json).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{username="${named("c-user")}"}'`,
      fields: { username: named("c-user") },
    });
    const byCustomId = await admin("POST", "/consumers", { custom_id: named("c-custom"), tags: [RUN] });
    expect(byCustomId.status).toBe(409);
    expect(byCustomId.json).toMatchObject({ fields: { custom_id: named("c-custom") } });
  });

  it("[Entities/consumers] a consumer is found by id or username in the path, and by ?custom_id=", async () => {
    const consumer = await created("/consumers", {
      username: named("c-find"),
      custom_id: named("c-find-cid"),
    });
    expect((await admin("GET", `/consumers/${named("c-find")}`)).json).toEqual(consumer);
    const byCustomId = await admin("GET", `/consumers?custom_id=${named("c-find-cid")}`);
    expect(listData(byCustomId)).toEqual([consumer]);
    expect((await admin("GET", `/consumers?custom_id=${named("c-none")}`)).json).toEqual({
      data: [],
      next: null,
    });
  });

  it("[Entities/key-auth] key-auth: the key is generated when absent, unique (409), and the credential is found by id or key", async () => {
    await created("/consumers", { username: named("c-ka") });
    const generated = await created(`/consumers/${named("c-ka")}/key-auth`, {});
    expect(typeof generated.key).toBe("string");
    expect(String(generated.key).length).toBeGreaterThan(0);
    const key = named("ka-key");
    const credential = await created(`/consumers/${named("c-ka")}/key-auth`, { key });
    expect((await admin("GET", `/key-auths/${key}`)).json).toEqual(credential);
    expect((await admin("GET", `/key-auths/${String(credential.id)}`)).json).toEqual(credential);
    const duplicate = await admin("POST", `/consumers/${named("c-ka")}/key-auth`, { key, tags: [RUN] });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{key="${key}"}'`,
      fields: { key },
    });
    expect((await admin("POST", `/consumers/${named("c-nobody")}/key-auth`, { key: "k" })).status).toBe(404);
  });

  it("[Entities/acls] acls: (consumer, group) is unique (409)", async () => {
    const consumer = await created("/consumers", { username: named("c-acl") });
    await created(`/consumers/${named("c-acl")}/acls`, { group: named("gold") });
    const res = await admin("POST", `/consumers/${named("c-acl")}/acls`, {
      group: named("gold"),
      tags: [RUN],
    });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{consumer={id="${String(consumer.id)}"},group="${named("gold")}"}'`,
      fields: { consumer: { id: consumer.id }, group: named("gold") },
    });
  });

  it("[Entities/jwt] jwt: algorithm defaults to HS256, key is unique (409), RS256 requires rsa_public_key", async () => {
    await created("/consumers", { username: named("c-jwt") });
    const hs = await created(`/consumers/${named("c-jwt")}/jwt`, { key: named("jwt-key") });
    expect(hs).toMatchObject({ algorithm: "HS256", key: named("jwt-key"), rsa_public_key: null });
    expect(typeof hs.secret).toBe("string");
    const duplicate = await admin("POST", `/consumers/${named("c-jwt")}/jwt`, {
      key: named("jwt-key"),
      tags: [RUN],
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json).toMatchObject({ code: 5, fields: { key: named("jwt-key") } });
    const noKey = await admin("POST", `/consumers/${named("c-jwt")}/jwt`, {
      algorithm: "RS256",
      tags: [RUN],
    });
    expect(noKey.status).toBe(400);
    expect(noKey.json).toMatchObject({ code: 2, fields: { rsa_public_key: "required field missing" } });
  });

  it("[Entities and paths (cascade)] deleting a consumer deletes its key-auth credentials, acls, jwt secrets and consumer-scoped plugins", async () => {
    const service = await created("/services", { name: named("c-cascade"), host: "example.com" });
    await created("/consumers", { username: named("c-cascade") });
    const path = `/consumers/${named("c-cascade")}`;
    const keyAuth = await created(`${path}/key-auth`, {});
    const acl = await created(`${path}/acls`, { group: named("cascade") });
    const jwt = await created(`${path}/jwt`, {});
    const plugin = await created(`${path}/plugins`, {
      name: "rate-limiting",
      service: { id: String(service.id) },
      config: { minute: 5 },
    });
    expect((await admin("DELETE", path)).status).toBe(204);
    for (const gone of [
      `/key-auths/${String(keyAuth.id)}`,
      `/acls/${String(acl.id)}`,
      `/jwts/${String(jwt.id)}`,
      `/plugins/${String(plugin.id)}`,
    ]) {
      expect((await admin("GET", gone)).status, gone).toBe(404);
    }
  });
});

describe("Admin API: plugins", () => {
  it("[Plugins the product relies on (defaults)] key-auth, jwt, acl and rate-limiting configs get Kong's defaults; plugins are enabled by default", async () => {
    const service = await created("/services", { name: named("pl-defaults"), host: "example.com" });
    const scope = `/services/${String(service.id)}/plugins`;
    const keyAuth = await created(scope, { name: "key-auth" });
    expect(keyAuth).toMatchObject({
      enabled: true,
      service: { id: service.id },
      route: null,
      consumer: null,
      config: { key_names: ["apikey"], hide_credentials: false },
    });
    const jwt = await created(scope, { name: "jwt" });
    expect(jwt.config).toMatchObject({
      key_claim_name: "iss",
      header_names: ["authorization"],
      uri_param_names: ["jwt"],
      cookie_names: [],
      secret_is_base64: false,
      maximum_expiration: 0,
      claims_to_verify: null,
    });
    const acl = await created(scope, { name: "acl", config: { allow: ["a"] } });
    expect(acl.config).toMatchObject({ allow: ["a"], deny: null, hide_groups_header: false });
    const rateLimiting = await created(scope, { name: "rate-limiting", config: { minute: 10 } });
    expect(rateLimiting.config).toMatchObject({
      minute: 10,
      second: null,
      limit_by: "consumer",
      policy: "local",
    });
  });

  it("[Plugins/rate-limiting] rate-limiting needs at least one limit (entity-level error on config)", async () => {
    const res = await admin("POST", "/plugins", { name: "rate-limiting", config: {}, tags: [RUN] });
    const message =
      "at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'";
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 2,
      name: "schema violation",
      message: `schema violation (${message})`,
      fields: { "@entity": [message] },
    });
  });

  it("[Entities/plugins] a plugin Kong does not bundle is a 400 'not enabled'", async () => {
    const res = await admin("POST", "/plugins", { name: "no-such-plugin", tags: [RUN] });
    const message = "plugin 'no-such-plugin' not enabled; add it to the 'plugins' configuration property";
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 2,
      name: "schema violation",
      message: `schema violation (name: ${message})`,
      fields: { name: message },
    });
  });

  it("[Behaviour/Errors (unknown field)] unknown config fields are 'unknown field' under config", async () => {
    const res = await admin("POST", "/plugins", { name: "key-auth", config: { colour: "red" }, tags: [RUN] });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      code: 2,
      message: "schema violation (config.colour: unknown field)",
      fields: { config: { colour: "unknown field" } },
    });
  });

  it("[Entities/plugins (extra plugins)] a bundled plugin the product does not model (an extra plugin) keeps the config it was given", async () => {
    const service = await created("/services", { name: named("pl-extra"), host: "example.com" });
    const cors = await created(`/services/${String(service.id)}/plugins`, {
      name: "cors",
      config: { origins: ["https://portal.example.com"] },
    });
    expect(cors.config).toMatchObject({ origins: ["https://portal.example.com"] });
  });

  it("[Entities/plugins (unique scope)] plugins are unique on (name, route, service, consumer): a second one at the same scope is 409", async () => {
    const service = await created("/services", { name: named("pl-unique"), host: "example.com" });
    await created("/plugins", {
      name: "rate-limiting",
      service: { id: String(service.id) },
      config: { minute: 5 },
    });
    const res = await admin("POST", "/plugins", {
      name: "rate-limiting",
      service: { id: String(service.id) },
      config: { minute: 9 },
      tags: [RUN],
    });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      code: 5,
      name: "unique constraint violation",
      message: `UNIQUE violation detected on '{consumer=null,name="rate-limiting",route=null,service={id="${String(service.id)}"}}'`,
      fields: { consumer: null, name: "rate-limiting", route: null, service: { id: service.id } },
    });
    const consumer = await created("/consumers", { username: named("pl-unique") });
    await created("/plugins", {
      name: "rate-limiting",
      service: { id: String(service.id) },
      consumer: { id: String(consumer.id) },
      config: { minute: 9 },
    });
  });

  it("[Entities/plugins (foreign keys)] a plugin on a service that does not exist is a 400 foreign key violation", async () => {
    const id = randomUUID();
    const res = await admin("POST", "/plugins", { name: "key-auth", service: { id }, tags: [RUN] });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 4, fields: { service: { id } } });
  });
});

describe("Admin API: tags and pagination", () => {
  it("[Behaviour/Tags] Tags: ?tags=a,b means every tag (and), ?tags=a/b means any tag (or)", async () => {
    const [a, b] = [named("tag-a"), named("tag-b")];
    const both = await created("/consumers", { username: named("t-both"), tags: [RUN, a, b] });
    const onlyA = await created("/consumers", { username: named("t-a"), tags: [RUN, a] });
    const onlyB = await created("/consumers", { username: named("t-b"), tags: [RUN, b] });
    const and = await admin("GET", `/consumers?tags=${a},${b}`);
    expect(and.status).toBe(200);
    expect(listData(and).map((c) => c.id)).toEqual([both.id]);
    const or = await admin("GET", `/consumers?tags=${a}/${b}`);
    expect(
      listData(or)
        .map((c) => String(c.id))
        .sort(),
    ).toEqual([both.id, onlyA.id, onlyB.id].map(String).sort());
  });

  it("[Behaviour/Tags] Tags: a filter names at most 5 tags; 6 is a 400 invalid options", async () => {
    const tags = [1, 2, 3, 4, 5, 6].map((i) => `t${i}`).join(",");
    const res = await admin("GET", `/consumers?tags=${tags}`);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 11,
      name: "invalid options",
      message: "invalid option (tags: cannot query more than 5 tags)",
      options: { tags: "cannot query more than 5 tags" },
    });
  });

  it("[Behaviour/Tags] Tags: a tag with ',' or '/' is a schema violation", async () => {
    const res = await admin("POST", "/consumers", { username: named("t-bad"), tags: [RUN, "a,b"] });
    const message =
      "invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences";
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      code: 2,
      name: "schema violation",
      message: `schema violation (tags.2: ${message})`,
      fields: { tags: [null, message] },
    });
  });

  describe("250 tagged consumers", () => {
    const pageTag = named("page");

    beforeAll(async () => {
      for (let i = 0; i < 250; i += 1) {
        const res = await admin("POST", "/consumers", { username: named(`page-${i}`), tags: [RUN, pageTag] });
        expect(res.status).toBe(201);
      }
    }, 120_000);

    it("[Behaviour/Pagination] Pagination: size 100 pages as 100, 100, 50; next links chain; the last page has next null and no offset", async () => {
      const seen = new Set<string>();
      const sizes: number[] = [];
      let path: string | null = `/consumers?tags=${pageTag}&size=100`;
      let last: JsonObject | undefined;
      while (path !== null) {
        const res = await admin("GET", path);
        expect(res.status).toBe(200);
        last = res.json as JsonObject;
        const data = listData(res);
        sizes.push(data.length);
        for (const c of data) seen.add(String(c.id));
        if (last.next !== null) {
          expect(typeof last.offset).toBe("string");
          expect(String(last.next)).toContain("offset=");
        }
        path = last.next === null ? null : String(last.next);
      }
      expect(sizes).toEqual([100, 100, 50]);
      expect(seen.size).toBe(250);
      expect(last).not.toHaveProperty("offset");
    });

    it("[Behaviour/Pagination] Pagination: when the last page is exactly full, it still has next null", async () => {
      const first = await admin("GET", `/consumers?tags=${pageTag}&size=125`);
      expect(listData(first)).toHaveLength(125);
      const offset = String((first.json as JsonObject).offset);
      const second = await admin(
        "GET",
        `/consumers?tags=${pageTag}&size=125&offset=${encodeURIComponent(offset)}`,
      );
      expect(listData(second)).toHaveLength(125);
      expect((second.json as JsonObject).next).toBeNull();
      expect(second.json).not.toHaveProperty("offset");
    });

    it("[Behaviour/Pagination] Pagination: size defaults to 100 and may be 1000; 1001 and 0 are 400 invalid size", async () => {
      const byDefault = await admin("GET", `/consumers?tags=${pageTag}`);
      expect(listData(byDefault)).toHaveLength(100);
      expect((byDefault.json as JsonObject).next).not.toBeNull();
      const all = await admin("GET", `/consumers?tags=${pageTag}&size=1000`);
      expect(listData(all)).toHaveLength(250);
      expect((all.json as JsonObject).next).toBeNull();
      for (const size of [1001, 0]) {
        const res = await admin("GET", `/consumers?tags=${pageTag}&size=${size}`);
        expect(res.status).toBe(400);
        expect(res.json).toEqual({
          code: 9,
          name: "invalid size",
          message: "size must be an integer between 1 and 1000",
        });
      }
    });

    it("[Behaviour/Pagination] Pagination: an offset the server did not hand out is a 400 invalid offset", async () => {
      const res = await admin("GET", "/consumers?offset=x");
      expect(res.status).toBe(400);
      expect(res.json).toEqual({
        code: 7,
        name: "invalid offset",
        message: "'x' is not a valid offset: bad base64 encoding",
      });
    });
  });
});

describe("Proxy", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
  const prefix = `/${RUN}`;
  let deadPort = 0;

  async function withPlugins(
    suffix: string,
    plugins: JsonObject[],
    routeExtra: JsonObject = {},
  ): Promise<void> {
    const service = await echoService(`px-${suffix}`);
    await created(`/services/${String(service.id)}/routes`, {
      paths: [`${prefix}/${suffix}`],
      ...routeExtra,
    });
    for (const plugin of plugins) await created(`/services/${String(service.id)}/plugins`, plugin);
  }

  async function consumerWithKey(
    suffix: string,
    groups: string[] = [],
  ): Promise<{ id: string; key: string }> {
    const consumer = await created("/consumers", {
      username: named(suffix),
      custom_id: named(`${suffix}-cid`),
    });
    const key = named(`${suffix}-key`);
    await created(`/consumers/${named(suffix)}/key-auth`, { key });
    for (const group of groups) await created(`/consumers/${named(suffix)}/acls`, { group });
    return { id: String(consumer.id), key };
  }

  let alice: { id: string; key: string };
  let gold: { id: string; key: string };
  let silver: { id: string; key: string };
  let jwtConsumerId = "";

  beforeAll(async () => {
    deadPort = await unusedPort();
    await withPlugins("open", []);
    await withPlugins("keep", [], { strip_path: false });
    const deep = await echoService("px-deep", { url: `http://${echo.host}:${echo.port}/deep` });
    await created(`/services/${String(deep.id)}/routes`, { paths: [`${prefix}/open/deeper`] });
    const dead = await created("/services", { name: named("px-dead"), url: `http://127.0.0.1:${deadPort}` });
    await created(`/services/${String(dead.id)}/routes`, { paths: [`${prefix}/dead`] });
    await withPlugins("key", [{ name: "key-auth", config: { hide_credentials: true } }]);
    await withPlugins("acl", [{ name: "key-auth" }, { name: "acl", config: { allow: [named("gold")] } }]);
    await withPlugins("acl-only", [{ name: "acl", config: { allow: [named("gold")] } }]);
    await withPlugins("limited", [{ name: "key-auth" }, { name: "rate-limiting", config: { minute: 100 } }]);
    await withPlugins("jwt", [
      { name: "jwt", config: { key_claim_name: "client_id", claims_to_verify: ["exp"] } },
    ]);
    alice = await consumerWithKey("alice");
    gold = await consumerWithKey("gold", [named("gold")]);
    silver = await consumerWithKey("silver", [named("silver")]);
    const limitedService = await admin("GET", `/services/${named("px-limited")}`);
    await created("/plugins", {
      name: "rate-limiting",
      service: { id: String((limitedService.json as JsonObject).id) },
      consumer: { id: alice.id },
      config: { minute: 2 },
    });
    const jwtConsumer = await created("/consumers", { username: named("jwt-client") });
    jwtConsumerId = String(jwtConsumer.id);
    await created(`/consumers/${named("jwt-client")}/jwt`, {
      key: named("client"),
      algorithm: "RS256",
      rsa_public_key: publicPem,
    });
    // A real Kong rebuilds its router and plugins asynchronously: wait until the last changes are live.
    await eventually(
      target,
      () => proxy(`${prefix}/open`),
      (r) => r.status === 200,
    );
    await eventually(
      target,
      () => proxy(`${prefix}/limited`, { headers: { apikey: gold.key } }),
      (r) => r.status === 200,
    );
    const ready = signJwt(
      "RS256",
      { client_id: named("client"), exp: Math.floor(target.nowMs() / 1000) + 3600 },
      rsa.privateKey,
    );
    await eventually(
      target,
      () => proxy(`${prefix}/jwt?jwt=${ready}`),
      (r) => r.status === 200,
    );
  }, 60_000);

  it("[Proxy (routing)] a request that matches no route is a 404 'no Route matched with those values'", async () => {
    const res = await proxy(`/${RUN}-nowhere/x`);
    expect(res.status).toBe(404);
    expect((res.json as JsonObject).message).toBe("no Route matched with those values");
  });

  it("[Proxy (routing)] strip_path removes the matched prefix and forwards method, query and body to the upstream", async () => {
    const res = await proxy(`${prefix}/open/a/b?q=1`, { method: "POST", body: { hello: "world" } });
    expect(res.status).toBe(200);
    const seen = echoed(res);
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/a/b?q=1");
    expect(JSON.parse(seen.body)).toEqual({ hello: "world" });
  });

  it("[Proxy (routing)] strip_path false forwards the whole path; the longest matching path wins and the service path is prepended", async () => {
    expect(echoed(await proxy(`${prefix}/keep/x`)).url).toBe(`${prefix}/keep/x`);
    expect(echoed(await proxy(`${prefix}/open/deeper/x`)).url).toBe("/deep/x");
    expect(echoed(await proxy(`${prefix}/open/deeper`)).url).toBe("/deep");
  });

  it("[Proxy (routing)] an unreachable upstream is a 502", async () => {
    const res = await proxy(`${prefix}/dead`);
    expect(res.status).toBe(502);
  });

  it("[Plugins/key-auth] key-auth: 401 without a key, 401 with an unknown key", async () => {
    const missing = await proxy(`${prefix}/key`);
    expect(missing.status).toBe(401);
    expect((missing.json as JsonObject).message).toBe("No API key found in request");
    const unknown = await proxy(`${prefix}/key`, { headers: { apikey: "not-a-key" } });
    expect(unknown.status).toBe(401);
    expect((unknown.json as JsonObject).message).toBe("Invalid authentication credentials");
  });

  it("[Plugins/key-auth] key-auth: a valid key in the header or query passes with consumer headers; hide_credentials strips the key", async () => {
    const byHeader = await proxy(`${prefix}/key`, { headers: { apikey: alice.key } });
    expect(byHeader.status).toBe(200);
    const headers = echoed(byHeader).headers;
    expect(headers["x-consumer-id"]).toBe(alice.id);
    expect(headers["x-consumer-username"]).toBe(named("alice"));
    expect(headers["x-consumer-custom-id"]).toBe(named("alice-cid"));
    expect(headers["x-credential-identifier"]).toEqual(expect.any(String));
    expect(headers.apikey).toBeUndefined();
    const byQuery = await proxy(`${prefix}/key/path?apikey=${alice.key}&keep=1`);
    expect(byQuery.status).toBe(200);
    expect(echoed(byQuery).url).toBe("/path?keep=1");
  });

  it("[Plugins/acl] acl: a consumer outside the allowed groups gets 403 'You cannot consume this service'; members pass", async () => {
    const denied = await proxy(`${prefix}/acl`, { headers: { apikey: silver.key } });
    expect(denied.status).toBe(403);
    expect((denied.json as JsonObject).message).toBe("You cannot consume this service");
    const allowed = await proxy(`${prefix}/acl`, { headers: { apikey: gold.key } });
    expect(allowed.status).toBe(200);
    expect(echoed(allowed).headers["x-consumer-groups"]).toBe(named("gold"));
  });

  it("[Plugins/acl] acl: without an authenticated consumer the answer is 401", async () => {
    const res = await proxy(`${prefix}/acl-only`);
    expect(res.status).toBe(401);
    expect((res.json as JsonObject).message).toBe("Unauthorized");
  });

  it("[Plugins/rate-limiting] rate-limiting on service+consumer: 429 'API rate limit exceeded' with RateLimit-*, X-RateLimit-* and Retry-After", async () => {
    // Against a real Kong, start in a fresh minute window so that the counts are known.
    if (target.real) await new Promise((r) => setTimeout(r, 60_500 - (Date.now() % 60_000)));
    const call = (): Promise<HttpResult> => proxy(`${prefix}/limited`, { headers: { apikey: alice.key } });
    const first = await call();
    expect(first.status).toBe(200);
    expect(first.headers["x-ratelimit-limit-minute"]).toBe("2");
    expect(first.headers["x-ratelimit-remaining-minute"]).toBe("1");
    expect(first.headers["ratelimit-limit"]).toBe("2");
    expect(first.headers["ratelimit-remaining"]).toBe("1");
    const reset = Number(first.headers["ratelimit-reset"]);
    expect(reset).toBeGreaterThanOrEqual(1);
    expect(reset).toBeLessThanOrEqual(60);
    const second = await call();
    expect(second.status).toBe(200);
    expect(second.headers["ratelimit-remaining"]).toBe("0");
    const third = await call();
    expect(third.status).toBe(429);
    expect((third.json as JsonObject).message).toBe("API rate limit exceeded");
    expect(third.headers["x-ratelimit-remaining-minute"]).toBe("0");
    expect(Number(third.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // The service-wide limit applies to consumers without their own, more specific, service+consumer plugin.
    const other = await proxy(`${prefix}/limited`, { headers: { apikey: gold.key } });
    expect(other.status).toBe(200);
    expect(other.headers["ratelimit-limit"]).toBe("100");
  }, 90_000);

  it.skipIf(real)(
    "[Plugins/rate-limiting] rate-limiting (double clock): the minute window resets when the clock moves a minute on",
    async () => {
      const call = (): Promise<HttpResult> => proxy(`${prefix}/limited`, { headers: { apikey: alice.key } });
      while ((await call()).status !== 429) {
        // use up the current window
      }
      target.clock?.advance(60_000);
      const res = await call();
      expect(res.status).toBe(200);
      expect(res.headers["ratelimit-remaining"]).toBe("1");
    },
  );

  function token(
    claims: JsonObject,
    key: KeyObject | string = rsa.privateKey,
    alg: "RS256" | "HS256" = "RS256",
  ): string {
    return signJwt(alg, claims, key);
  }

  function inAnHour(): number {
    return Math.floor(target.nowMs() / 1000) + 3600;
  }

  async function jwtCall(tokenValue: string | undefined): Promise<HttpResult> {
    return proxy(
      `${prefix}/jwt`,
      tokenValue === undefined ? {} : { headers: { authorization: `Bearer ${tokenValue}` } },
    );
  }

  it("[Plugins/jwt] jwt: a valid RS256 token whose client_id matches a jwt credential passes, identifying the consumer", async () => {
    const res = await jwtCall(token({ client_id: named("client"), exp: inAnHour() }));
    expect(res.status).toBe(200);
    expect(echoed(res).headers["x-consumer-id"]).toBe(jwtConsumerId);
    expect(echoed(res).headers["x-credential-identifier"]).toBe(named("client"));
    const byQuery = await proxy(
      `${prefix}/jwt?jwt=${token({ client_id: named("client"), exp: inAnHour() })}`,
    );
    expect(byQuery.status).toBe(200);
  });

  it("[Plugins/jwt] jwt: 401 'Invalid signature' for a token signed with another key", async () => {
    const res = await jwtCall(token({ client_id: named("client"), exp: inAnHour() }, otherRsa.privateKey));
    expect(res.status).toBe(401);
    expect((res.json as JsonObject).message).toBe("Invalid signature");
  });

  it("[Plugins/jwt] jwt: 401 {exp: 'token expired'} when exp (in claims_to_verify) has passed", async () => {
    const res = await jwtCall(
      token({ client_id: named("client"), exp: Math.floor(target.nowMs() / 1000) - 10 }),
    );
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ exp: "token expired" });
  });

  it("[Plugins/jwt] jwt: 401 'No credentials found for given 'client_id'' for an unknown key", async () => {
    const res = await jwtCall(token({ client_id: named("stranger"), exp: inAnHour() }));
    expect(res.status).toBe(401);
    expect((res.json as JsonObject).message).toBe("No credentials found for given 'client_id'");
  });

  it("[Plugins/jwt] jwt: 401 'Invalid algorithm' when the token's alg differs from the credential's", async () => {
    const res = await jwtCall(token({ client_id: named("client"), exp: inAnHour() }, publicPem, "HS256"));
    expect(res.status).toBe(401);
    expect((res.json as JsonObject).message).toBe("Invalid algorithm");
  });

  it("[Plugins/jwt] jwt: 401 'Unauthorized' without a token and 'No mandatory 'client_id' in claims' without the key claim", async () => {
    const none = await jwtCall(undefined);
    expect(none.status).toBe(401);
    expect((none.json as JsonObject).message).toBe("Unauthorized");
    const noClaim = await jwtCall(token({ exp: inAnHour() }));
    expect(noClaim.status).toBe(401);
    expect((noClaim.json as JsonObject).message).toBe("No mandatory 'client_id' in claims");
  });
});

describe.skipIf(real)("Double-only controls: write counter and Admin API faults", () => {
  it("[DESIGN §4 (in-sync resync makes no writes)] writes counts successful POST, PUT, PATCH and DELETE requests only", async () => {
    const double = target.double;
    if (!double) throw new Error("double expected");
    double.resetCounters();
    await admin("POST", "/consumers", { username: named("w-1") });
    await admin("GET", "/consumers");
    await admin("POST", "/consumers", { username: named("w-1") });
    await admin("PATCH", `/consumers/${named("w-1")}`, { custom_id: named("w-1-cid") });
    await admin("PUT", `/consumers/${named("w-2")}`, {});
    await admin("DELETE", `/consumers/${named("w-1")}`);
    expect(double.writes).toBe(4);
    expect(double.adminRequests.map((r) => `${r.method} ${r.status}`)).toEqual([
      "POST 201",
      "GET 200",
      "POST 409",
      "PATCH 200",
      "PUT 200",
      "DELETE 204",
    ]);
    double.resetCounters();
    expect(double.writes).toBe(0);
  });

  it("[DESIGN §4 (transient Admin API failures)] failNext answers the next requests with a Kong-like 5xx without executing them, then recovers", async () => {
    const double = target.double;
    if (!double) throw new Error("double expected");
    double.resetCounters();
    double.faults.failNext(2, 503);
    const failed = await admin("POST", "/consumers", { username: named("f-next") });
    expect(failed.status).toBe(503);
    expect(failed.json).toEqual({ message: "The upstream server is currently unavailable" });
    expect((await admin("GET", `/consumers/${named("f-next")}`)).status).toBe(503);
    expect((await admin("GET", `/consumers/${named("f-next")}`)).status).toBe(404);
    expect(double.writes).toBe(0);
    expect(double.faults.injected).toBeGreaterThanOrEqual(2);
  });

  it("[DESIGN §4 (transient Admin API failures)] failRate fails about the given share of requests, reproducibly for a seed", async () => {
    const double = target.double;
    if (!double) throw new Error("double expected");
    const run = async (): Promise<number[]> => {
      double.faults.reseed(7);
      double.faults.failRate(0.3, 500);
      const statuses: number[] = [];
      for (let i = 0; i < 60; i += 1) statuses.push((await admin("GET", "/status")).status);
      await double.faults.clear();
      return statuses;
    };
    const first = await run();
    const failures = first.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(40);
    expect(first.every((s) => s === 200 || s === 500)).toBe(true);
    expect(await run()).toEqual(first);
  });

  it("[DESIGN §4 (transient Admin API failures)] delay adds latency to Admin API answers", async () => {
    const double = target.double;
    if (!double) throw new Error("double expected");
    double.faults.delay(200);
    const started = performance.now();
    expect((await admin("GET", "/status")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(180);
    await double.faults.clear();
  });

  it("[DESIGN §4 (transient Admin API failures)] refused connections: the Admin API refuses connections until accepted again", async () => {
    const double = target.double;
    if (!double) throw new Error("double expected");
    await double.faults.refuseConnections();
    await expect(admin("GET", "/status")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await double.faults.acceptConnections();
    expect((await admin("GET", "/status")).status).toBe(200);
  });

  it("[Double self-check] the double answered no request with an internal error", () => {
    expect(target.double?.unexpectedErrors).toEqual([]);
  });
});
