/**
 * fast-check generators of hostile HTTP requests for one portal API route, shaped by the route's OpenAPI
 * operation (its query parameters and body fields, so generated requests get past the router and into the
 * handlers), and the check every answer must pass. Pure: no I/O.
 */
import fc from "fast-check";

/** The parts of an OpenAPI document the generators read. */
export interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ in: string; name: string }>;
        requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
      }
    >
  >;
}

/** One request as `inject` takes it. */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** Path parameter values: plausible names, hostile strings, malformed percent-encodings. */
const pathValue: fc.Arbitrary<string> = fc.oneof(
  fc
    .constantFrom("orders", "app", "portal", "basic", "xss-0", "00000000-0000-4000-8000-000000000000")
    .map(encodeURIComponent),
  fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,30}[a-z0-9])?$/),
  fc.string({ unit: "grapheme", maxLength: 40 }).map(encodeURIComponent),
  fc
    .constantFrom(
      "..",
      "../../etc/passwd",
      "' OR 1=1 --",
      "<script>alert(1)</script>",
      "a".repeat(300),
      " ",
      "\u0000",
    )
    .map(encodeURIComponent),
  fc.constantFrom("%zz", "%", "%E0%A4%A", "%2e%2e%2f", "%00", "%C0%AE"),
);

/** Query values: strings of any script, numbers out of range, and things that look like other types. */
const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 120 }),
  fc.integer().map(String),
  fc.constantFrom(
    "",
    "-1",
    "0",
    "101",
    "1e309",
    "NaN",
    "true",
    "null",
    "[]",
    "{}",
    "%",
    "_",
    "'",
    "\\",
    "a".repeat(500),
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

/** Body field values: any JSON, and strings that stress length, script and syntax. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.constantFrom(
    "",
    " ",
    "a".repeat(5_000),
    "x@y",
    "https://evil.example.com",
    "http://localhost:1/cb",
    "<b>x</b>",
  ),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 40 }),
);

/** Mostly the admin's valid token (so requests reach the handlers), sometimes none or a broken one. */
const authorization: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("ADMIN") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      undefined,
      "Bearer not-a-token",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      `Bearer ${"a".repeat(5_000)}`,
      "Bearer ey.ey.sig extra",
    ),
  },
);

const contentType = fc.constantFrom(
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
);

/** The OpenAPI path of a fastify route (`/applications/:name` → `/applications/{name}`). Pure. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, "{$1}");
}

/** Hostile requests to one route; `adminToken` stands in for the "ADMIN" authorization choice. */
export function fuzzRequests(
  route: { method: string; url: string },
  document: OpenApiDocument,
  adminToken: string,
): fc.Arbitrary<FuzzRequest> {
  const operation = document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()] ?? {};
  const queryNames = (operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
  const bodyFields = Object.keys(
    operation.requestBody?.content?.["application/json"]?.schema?.properties ?? {},
  );
  const params = [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);

  const path = fc.tuple(...params.map(() => pathValue)).map((values) => {
    let i = 0;
    return route.url.replace(/:([A-Za-z]+)/g, () => values[i++] ?? "");
  });
  const query = fc
    .tuple(
      fc.dictionary(
        fc.oneof(
          ...(queryNames.length > 0 ? [fc.constantFrom(...queryNames)] : []),
          fc.string({ maxLength: 10 }),
        ),
        queryValue,
        { maxKeys: 5 },
      ),
      fc.constantFrom("", "", "", "&%zz=1", "&page=1&page=2", "&q[]=x"),
    )
    .map(([entries, raw]) => {
      const search = new URLSearchParams(entries).toString();
      return search || raw ? `?${search}${raw}` : "";
    });
  const fields = fc.dictionary(
    fc.oneof(
      ...(bodyFields.length > 0 ? [fc.constantFrom(...bodyFields)] : []),
      fc.constantFrom("__proto__", "extra"),
    ),
    fieldValue,
    { maxKeys: Math.max(1, bodyFields.length + 1) },
  );
  const payload: fc.Arbitrary<string | undefined> = fc.oneof(
    { weight: 4, arbitrary: fields.map((f) => JSON.stringify(f)) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  return fc
    .record({ path, query, payload, authorization, contentType })
    .map(({ path: p, query: q, payload: body, authorization: auth, contentType: type }) => {
      const headers: Record<string, string> = {};
      if (auth) headers.authorization = auth === "ADMIN" ? `Bearer ${adminToken}` : auth;
      if (body !== undefined) headers["content-type"] = type;
      return {
        method: route.method,
        url: `${p}${q}`,
        headers,
        ...(body === undefined ? {} : { payload: body }),
      };
    });
}

/**
 * What is wrong with an answer, or undefined: no 5xx ever, and every 4xx is problem+json whose `status`
 * is the HTTP status and whose `type`, `title` and `detail` are filled in. Pure.
 */
export function problemOf(status: number, contentType: string, body: string): string | undefined {
  if (status >= 500) return `answered ${status}: ${body.slice(0, 300)}`;
  if (status < 400) return undefined;
  if (!contentType.startsWith("application/problem+json"))
    return `answered ${status} as ${contentType || "no content type"}, not application/problem+json: ${body.slice(0, 200)}`;
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return `answered ${status} with a body that is not JSON: ${body.slice(0, 200)}`;
  }
  if (problem.status !== status)
    return `the problem says status ${String(problem.status)}, the answer ${status}`;
  for (const field of ["type", "title", "detail"]) {
    if (typeof problem[field] !== "string" || (problem[field] as string).trim() === "")
      return `the problem has no ${field}: ${body.slice(0, 200)}`;
  }
  return undefined;
}
