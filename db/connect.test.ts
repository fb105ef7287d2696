import { describe, expect, it } from "vitest";
import { createDatabase } from "./connect.ts";

describe("createDatabase", () => {
  it("refuses a URL that is not postgres:// without repeating it", () => {
    expect(() => createDatabase("mysql://root:s3cret@db:3306/wicked")).toThrow(/scheme "mysql:"/);
    expect(() => createDatabase("mysql://root:s3cret@db:3306/wicked")).not.toThrow(/s3cret/);
    expect(() => createDatabase("not a url s3cret")).toThrow(/not a valid URL/);
    expect(() => createDatabase("not a url s3cret")).not.toThrow(/s3cret/);
  });

  it("connects lazily", async () => {
    const db = createDatabase("postgresql://wicked:pw@127.0.0.1:1/wicked");
    await db.destroy();
  });
});
