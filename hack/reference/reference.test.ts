import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { projectReference, REFERENCE_FILE } from "./main.ts";
import { type Crd, renderReference } from "./reference.ts";

const crd = (schema: object): Crd => ({
  spec: {
    group: "wicked.dev",
    names: { kind: "Plan", plural: "plans", shortNames: ["wplan"], categories: ["wicked"] },
    scope: "Namespaced",
    versions: [
      {
        name: "v1alpha1",
        served: true,
        storage: true,
        additionalPrinterColumns: [
          { name: "Reason", type: "string", jsonPath: ".status.reason", priority: 1 },
        ],
        schema: {
          openAPIV3Schema: { description: "Plan is a plan.", type: "object", properties: { spec: schema } },
        },
      },
    ],
  },
});

describe("renderReference", () => {
  it("lists every nested field with its type, constraints, default and rules", () => {
    const text = renderReference([
      crd({
        type: "object",
        required: ["displayName"],
        "x-kubernetes-validations": [{ rule: "true", message: "a whole-spec rule" }],
        properties: {
          displayName: { type: "string", description: "Name | shown.", minLength: 1, maxLength: 100 },
          rateLimits: {
            type: "object",
            properties: { day: { type: "integer", format: "int64", minimum: 1 } },
            "x-kubernetes-validations": [{ rule: "self.day > 0", message: "day must be positive" }],
          },
          routes: {
            type: "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            items: {
              type: "object",
              properties: { name: { type: "string", enum: ["a", "b"], default: "a" } },
            },
          },
          tags: {
            type: "array",
            "x-kubernetes-list-type": "set",
            items: { type: "string", pattern: "^[a-z]+$" },
          },
        },
      }),
    ]);
    expect(text).toContain(
      "`apiVersion: wicked.dev/v1alpha1` · `kind: Plan` · namespaced · resource `plans` · short names `wplan`",
    );
    expect(text).toContain("| `spec.displayName` | string | Name \\| shown. **Required.** Length 1–100. |");
    expect(text).toContain("| `spec.rateLimits.day` | integer (int64) | Value at least 1. |");
    expect(text).toContain("| `spec.rateLimits` | object | Rule: day must be positive. |");
    expect(text).toContain("| `spec.routes` | []object | Items are keyed by `name`. |");
    expect(text).toContain('| `spec.routes[].name` | string | Default: `"a"`. One of: `a`, `b`. |');
    expect(text).toContain("| `spec.tags` | []string | Items are unique. Each item: pattern: `^[a-z]+$`. |");
    expect(text).toContain("Rules on the whole `spec`:\n\n- a whole-spec rule");
    expect(text).toContain("| Reason | `.status.reason` | yes |");
  });
});

describe(REFERENCE_FILE, () => {
  it("is what hack/reference generates from crds/ (run `npx tsx hack/reference/main.ts` when this fails)", () => {
    expect(readFileSync(REFERENCE_FILE, "utf8")).toBe(projectReference());
  });
});
