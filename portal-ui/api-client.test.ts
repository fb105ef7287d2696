import { describe, expect, it } from "vitest";
import { clientAddressKey, forwardedClientAddress } from "../component/client-address.ts";
import { ApiProblem, PortalApiClient } from "./api-client.ts";

/** A fetch that records the request it got and answers with `answer`. */
function recording(answer: () => Response | Promise<Response>) {
  const seen: Request[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    seen.push(new Request(input, init));
    return answer();
  };
  return { seen, fetchImpl };
}

function json(status: number, body: unknown, type = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
}

describe("PortalApiClient", () => {
  it("sends the access token, the JSON body and the path parameters, and returns the answer's body", async () => {
    const { seen, fetchImpl } = recording(() => json(200, { displayName: "Dana" }));
    const client = new PortalApiClient("https://portal.test/api/", fetchImpl);
    expect(await client.updateMe("tok", "Dana")).toEqual({ displayName: "Dana" });
    await client.application("tok", "a b/c");
    const [patch, get] = seen;
    expect(patch?.method).toBe("PATCH");
    expect(patch?.url).toBe("https://portal.test/api/me");
    expect(patch?.headers.get("authorization")).toBe("Bearer tok");
    expect(patch?.headers.get("content-type")).toBe("application/json");
    expect(patch?.headers.get("accept")).toContain("application/problem+json");
    expect(patch?.redirect).toBe("manual");
    expect(await patch?.json()).toEqual({ displayName: "Dana" });
    expect(get?.url).toBe("https://portal.test/api/applications/a%20b%2Fc");
  });

  it("leaves out empty and undefined query values, and the token when there is none", async () => {
    const { seen, fetchImpl } = recording(() => json(200, { items: [], page: 1, pageSize: 12, total: 0 }));
    const client = new PortalApiClient("https://portal.test/api", fetchImpl);
    await client.apis(undefined, { q: "", tag: undefined, auth: "oauth2", page: 2, pageSize: 12 });
    expect(seen[0]?.url).toBe("https://portal.test/api/apis?auth=oauth2&page=2&pageSize=12");
    expect(seen[0]?.headers.has("authorization")).toBe(false);
  });

  it("turns a problem+json refusal into an ApiProblem with its detail, kind and field errors", async () => {
    const { fetchImpl } = recording(() =>
      json(
        400,
        {
          type: "https://wicked.dev/problems/password-policy",
          title: "Bad request",
          status: 400,
          detail: "Choose a longer password.",
          errors: [{ path: "/password", message: "at least 12 characters" }, { nope: 1 }],
        },
        "application/problem+json",
      ),
    );
    const problem = await new PortalApiClient("https://portal.test/api", fetchImpl)
      .resetPassword("0123456789", "short")
      .catch((err: unknown) => err);
    expect(problem).toBeInstanceOf(ApiProblem);
    expect(problem).toMatchObject({
      status: 400,
      title: "Bad request",
      message: "Choose a longer password.",
      kind: "password-policy",
      errors: [{ path: "/password", message: "at least 12 characters" }],
    });
  });

  it("says the portal API had a problem when a failure has no problem body", async () => {
    const { fetchImpl } = recording(
      () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
    );
    const problem = await new PortalApiClient("https://portal.test/api", fetchImpl)
      .me("tok")
      .catch((err: unknown) => err);
    expect(problem).toMatchObject({
      status: 502,
      title: "Bad Gateway",
      message: "The portal API had a problem answering; try again in a moment.",
    });
  });

  it("answers 503 when the portal API cannot be reached or does not answer in time", async () => {
    const refused: typeof fetch = async () => {
      throw new TypeError("fetch failed");
    };
    const silent: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    for (const fetchImpl of [refused, silent]) {
      const problem = await new PortalApiClient("https://portal.test/api", fetchImpl, 20)
        .me("tok")
        .catch((err: unknown) => err);
      expect(problem).toMatchObject({
        status: 503,
        message: "The portal API cannot be reached right now; try again in a moment.",
      });
    }
  });

  it("resolves with nothing for 204 and hands over the CSV export unread", async () => {
    const { fetchImpl } = recording(() => new Response(null, { status: 204 }));
    expect(await new PortalApiClient("https://portal.test/api", fetchImpl).deleteMe("tok")).toBeUndefined();
    const csv = recording(
      () =>
        new Response("id,at\n1,2024-01-01\n", {
          headers: { "content-type": "text/csv", "content-disposition": 'attachment; filename="a.csv"' },
        }),
    );
    const response = await new PortalApiClient("https://portal.test/api", csv.fetchImpl).auditLogCsv("tok", {
      actor: "",
      action: "user.",
    });
    expect(csv.seen[0]?.url).toBe("https://portal.test/api/admin/audit-log.csv?action=user.");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="a.csv"');
    expect(await response.text()).toBe("id,at\n1,2024-01-01\n");
  });

  it("security #8: forwards the browser's address, signed, on the account calls and nowhere else", async () => {
    const key = clientAddressKey("a-session-key-of-some-length");
    const { seen, fetchImpl } = recording(() => json(202, { status: "accepted", detail: "ok" }));
    const client = new PortalApiClient("https://portal.test/api", fetchImpl, 15_000, key);
    await client.signUp({ email: "a@example.com", displayName: "A", password: "pw" }, "203.0.113.9");
    await client.resendVerification("a@example.com", "203.0.113.9");
    await client.requestPasswordReset("a@example.com", "2001:db8::1");
    await client.verifyEmail("0123456789", "203.0.113.9");
    await client.resetPassword("0123456789", "pw", "203.0.113.9");
    await client.updateMe("tok", "Dana");
    const headersOf = (r: Request | undefined) => Object.fromEntries(r?.headers.entries() ?? []);
    expect(seen.slice(0, 5).map((r) => forwardedClientAddress(headersOf(r), key).address)).toEqual([
      "203.0.113.9",
      "203.0.113.9",
      "2001:db8::1",
      "203.0.113.9",
      "203.0.113.9",
    ]);
    expect(forwardedClientAddress(headersOf(seen[5]), key)).toEqual({});
  });
});
