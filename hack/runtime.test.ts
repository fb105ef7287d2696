import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

describe("the Node.js runtime", () => {
  const pinned = read(".node-version").trim();
  const major = Number(pinned.split(".")[0]);

  it("is one release everywhere: .node-version, the image's default base and engines.node", () => {
    expect(read("Dockerfile")).toMatch(
      new RegExp(`^ARG NODE_IMAGE=node:${pinned.replaceAll(".", "\\.")}-`, "m"),
    );
    expect(JSON.parse(read("package.json")).engines.node).toBe(`>=${major}`);
  });

  it("is the one the tests run on", () => {
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(major);
  });
});
