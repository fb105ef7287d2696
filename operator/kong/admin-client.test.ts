// The Admin API client against the Kong test double (test/kong), in process.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { httpCall } from "../../test/kong/contract-support.ts";
import { type KongDouble, startKongDouble } from "../../test/kong/kong-double.ts";
import { KongAdminClient, KongAdminError } from "./admin-client.ts";

let double: KongDouble;
let client: KongAdminClient;

beforeEach(async () => {
  double = await startKongDouble();
  client = new KongAdminClient(double.adminUrl);
});

afterEach(async () => {
  await double.stop();
});

describe("KongAdminClient", () => {
  it("lists every tagged entity in pages of 1000, skipping untagged ones", { timeout: 60_000 }, async () => {
    const tags = ["managed-by-wicked", "wicked-portal:shop.portal"];
    const ids = Array.from(
      { length: 1003 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((id, j) => client.put("consumers", id, { username: `user-${i + j}`, tags })),
      );
    }
    await httpCall(double.adminUrl, "POST", "/consumers", { body: { username: "untagged" } });
    await httpCall(double.adminUrl, "POST", "/consumers", {
      body: { username: "half", tags: [tags[0] ?? ""] },
    });
    double.resetCounters();

    const listed = await client.listTagged("consumers", tags);
    expect(listed.map((c) => c.id).sort()).toEqual(ids);
    expect(double.adminRequests.map((r) => r.path.replace(/offset=[^&]+/, "offset=…"))).toEqual([
      "/consumers?size=1000&tags=managed-by-wicked%2Cwicked-portal%3Ashop.portal",
      "/consumers?size=1000&tags=managed-by-wicked%2Cwicked-portal%3Ashop.portal&offset=…",
    ]);
  });

  it("refuses a tag filter Kong would refuse (more than five tags)", async () => {
    await expect(client.listTagged("services", ["a", "b", "c", "d", "e", "f"])).rejects.toThrow(RangeError);
  });

  it("upserts by id with PUT", async () => {
    const id = "11111111-1111-4111-8111-111111111111";
    await client.put("services", id, { name: "svc", host: "a.invalid" });
    const updated = await client.put("services", id, { name: "svc", host: "b.invalid" });
    expect(updated).toMatchObject({ id, host: "b.invalid" });
    expect(double.writes).toBe(2);
  });

  it("keeps a credential out of the error of a sensitive write", async () => {
    const consumer = await client.put("consumers", "22222222-2222-4222-8222-222222222222", { username: "c" });
    await client.put("key-auths", "33333333-3333-4333-8333-333333333333", {
      consumer: { id: consumer.id },
      key: "very-secret",
    });
    const error = await client
      .put(
        "key-auths",
        "44444444-4444-4444-8444-444444444444",
        { consumer: { id: consumer.id }, key: "very-secret" },
        { sensitive: true },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KongAdminError);
    expect(error).toMatchObject({ status: 409, body: { code: 5, fields: { key: "<redacted>" } } });
    expect(`${String(error)} ${JSON.stringify((error as KongAdminError).body)}`).not.toContain("very-secret");
  });

  it("reports a refused connection as status 0", async () => {
    await double.faults.refuseConnections();
    await expect(client.listTagged("services", ["x"])).rejects.toMatchObject({
      status: 0,
      message: `Cannot reach Kong's Admin API at ${double.adminUrl} (ECONNREFUSED)`,
    });
    await double.faults.clear();
  });

  it("rejects with the abort reason, not as an unreachable Kong", async () => {
    const controller = new AbortController();
    const reason = new Error("shutdown");
    controller.abort(reason);
    await expect(client.listTagged("services", ["x"], { signal: controller.signal })).rejects.toBe(reason);
  });
});
