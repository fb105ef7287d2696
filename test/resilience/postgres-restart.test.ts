import { describe, expect, it } from "vitest";
import { parsePostmasterOpts } from "./postgres-restart.ts";

describe("parsePostmasterOpts", () => {
  it("reads the binary and the quoted arguments Postgres recorded, escapes included", () => {
    const text =
      '/usr/lib/postgresql/15/bin/postgres "-D" "/tmp/wicked-pg-x/data" "-c" "listen_addresses=127.0.0.1" "-c" "port=5433" "-c" "application_name=a \\"quoted\\" name"\n';
    expect(parsePostmasterOpts(text)).toEqual([
      "/usr/lib/postgresql/15/bin/postgres",
      "-D",
      "/tmp/wicked-pg-x/data",
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "port=5433",
      "-c",
      'application_name=a "quoted" name',
    ]);
  });

  it("refuses an empty file", () => {
    expect(() => parsePostmasterOpts("  \n")).toThrow("postmaster.opts is empty");
  });
});
