import pino from "pino";
import { describe, expect, it } from "vitest";
import { InformerCache, type Source } from "./cache.ts";
import type { ListPage } from "./informer.ts";
import { gvkString, type KubeObject } from "./types.ts";

const PORTAL = { group: "wicked.dev", version: "v1alpha1", kind: "ApiPortal", plural: "apiportals" };
const SECRET = { group: "", version: "v1", kind: "Secret", plural: "secrets" };

/** The subset of label and field selectors the cache uses: `key`, `!key`, `key=value`, `metadata.name=…`. */
function matches(obj: KubeObject, source: Source): boolean {
  const labels = obj.metadata.labels ?? {};
  const label = (term: string) => {
    if (term.startsWith("!")) return !(term.slice(1) in labels);
    const [key, value] = term.split("=");
    return value === undefined ? (key ?? "") in labels : labels[key ?? ""] === value;
  };
  return (
    (source.namespace === "" || obj.metadata.namespace === source.namespace) &&
    (source.labelSelector ?? "").split(",").every((t) => t === "" || label(t)) &&
    (!source.fieldSelector || source.fieldSelector === `metadata.name=${obj.metadata.name}`)
  );
}

/** A cluster of fixed objects; records every source listed; `send` drives the watch of a source. */
function fakeCluster(objects: KubeObject[], scope: ConstructorParameters<typeof InformerCache>[1]) {
  const listed: string[] = [];
  const send = new Map<string, (type: string, obj: KubeObject) => void>();
  const cache = new InformerCache(
    (gvk, source) => ({
      logger: pino({ level: "silent" }),
      list: async (): Promise<ListPage> => {
        listed.push(`${gvk.kind} ${JSON.stringify(source)}`);
        return {
          items: structuredClone(objects.filter((o) => o.kind === gvk.kind && matches(o, source))),
          resourceVersion: "1",
        };
      },
      watch: async (_req, onEvent) => {
        send.set(`${gvk.kind} ${source.namespace}`, (type, obj) => onEvent(type, obj));
        return { stop() {} };
      },
    }),
    scope,
  );
  return { cache, listed, send };
}

const secret = (
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
  rv = "1",
): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { namespace, name, labels, resourceVersion: rv },
});
const portal = (namespace: string, db: string, rv = "1"): KubeObject =>
  ({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { namespace, name: "portal", resourceVersion: rv },
    spec: { database: { urlSecretRef: { name: db, key: "url" } } },
  }) as KubeObject;
type PortalLike = { spec: { database: { urlSecretRef: { name: string } } } };
const referenced = (obj: KubeObject) => [(obj as unknown as PortalLike).spec.database.urlSecretRef.name];

const SELECTORS = {
  [gvkString(SECRET)]: [
    "wicked.dev/subscription",
    "app.kubernetes.io/managed-by=wicked-operator,!wicked.dev/subscription",
  ],
};

describe("security #10: the cache holds only the Secrets the operator owns, is granted or is pointed at", () => {
  const cluster = [
    portal("team", "db"),
    secret("team", "db"),
    secret("team", "db2"),
    secret("team", "someone-elses-token"),
    secret("team", "orders-credentials", {
      "wicked.dev/subscription": "orders",
      "app.kubernetes.io/managed-by": "wicked-operator",
    }),
    secret("team", "portal-signing-keys", { "app.kubernetes.io/managed-by": "wicked-operator" }),
    secret("other", "other-teams-db"),
  ];

  it("selects by label, adds the Secrets portals point at by name, and drops one no portal points at", async () => {
    const { cache, send } = fakeCluster(cluster, { selectors: SELECTORS });
    cache.cacheReferenced(PORTAL, SECRET, referenced);
    cache.informerFor(SECRET);
    cache.start();
    await cache.waitForSync();
    const cached = () =>
      cache
        .list(SECRET)
        .map((s) => `${s.metadata.namespace}/${s.metadata.name}`)
        .sort();
    expect(cached()).toEqual(["team/db", "team/orders-credentials", "team/portal-signing-keys"]);
    expect(cache.get(SECRET, { namespace: "team", name: "someone-elses-token" })).toBeUndefined();

    send.get("ApiPortal ")?.("MODIFIED", portal("team", "db2", "2"));
    await cache.waitForSync();
    expect(cached()).toEqual(["team/db2", "team/orders-credentials", "team/portal-signing-keys"]);
    await cache.stop();
  });

  it("lists and watches only the namespaces it is given", async () => {
    const { cache, listed } = fakeCluster(cluster, { namespaces: ["team"], selectors: SELECTORS });
    cache.cacheReferenced(PORTAL, SECRET, referenced);
    cache.start();
    await cache.waitForSync();
    expect(listed.every((l) => l.includes('"namespace":"team"'))).toBe(true);
    expect(cache.get(SECRET, { namespace: "team", name: "db" })).toBeDefined();
    expect(cache.list(SECRET, "other")).toEqual([]);
    await cache.stop();
  });
});

describe("indexes", () => {
  const typeOf = (obj: KubeObject) => [String(obj.metadata.labels?.type ?? "none")];

  it("find the objects of a namespace by value, following adds, updates and deletes", async () => {
    const { cache, send } = fakeCluster(
      [
        secret("a", "one", { type: "key" }),
        secret("a", "two", { type: "key" }),
        secret("b", "three", { type: "key" }),
      ],
      {},
    );
    cache.addIndex({ gvk: SECRET, name: "type", values: typeOf });
    cache.addIndex({ gvk: SECRET, name: "type", values: () => ["ignored: the first declaration wins"] });
    cache.start();
    await cache.waitForSync();
    const names = (namespace: string, value: string) =>
      cache
        .byIndex(SECRET, "type", namespace, value)
        .map((s) => s.metadata.name)
        .sort();
    expect(names("a", "key")).toEqual(["one", "two"]);
    expect(names("b", "key")).toEqual(["three"]);

    send.get("Secret ")?.("MODIFIED", secret("a", "two", { type: "jwt" }, "2"));
    send.get("Secret ")?.("DELETED", secret("a", "one", { type: "key" }));
    send.get("Secret ")?.("ADDED", secret("a", "four", { type: "key" }, "3"));
    expect(names("a", "key")).toEqual(["four"]);
    expect(names("a", "jwt")).toEqual(["two"]);
    expect(() => cache.byIndex(SECRET, "owner", "a", "x")).toThrow(/no index owner/);
    await cache.stop();
  });
});
