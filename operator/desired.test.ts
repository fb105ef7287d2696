import { describe, expect, it } from "vitest";
import { deepEqual, isSubset } from "./desired.ts";

describe("isSubset", () => {
  it("ignores fields the apiserver adds and compares lists item by item", () => {
    const desired = { spec: { replicas: 2, containers: [{ name: "a", ports: [{ containerPort: 80 }] }] } };
    const actual = {
      spec: {
        replicas: 2,
        progressDeadlineSeconds: 600,
        containers: [
          {
            name: "a",
            ports: [{ containerPort: 80, protocol: "TCP" }],
            terminationMessagePath: "/dev/termination-log",
          },
        ],
      },
    };
    expect(isSubset(desired, actual)).toBe(true);
    expect(isSubset({ spec: { replicas: 3 } }, actual)).toBe(false);
    expect(isSubset({ spec: { containers: [] } }, actual)).toBe(false);
    expect(isSubset({ data: { a: "1" } }, {})).toBe(false);
  });
});

describe("deepEqual", () => {
  it("ignores key order but not values", () => {
    expect(deepEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
  });
});
