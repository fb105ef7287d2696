import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { createDatabase } from "./connect.ts";
import { MigrationError, migrateTo, migrateToLatest } from "./migrate.ts";
import { migrations } from "./migrations/index.ts";

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

describe("migrateToLatest", () => {
  it("says the database is unreachable, without the password, when nothing listens", async () => {
    const db = createDatabase(`postgres://wicked:s3cret@127.0.0.1:${await closedPort()}/wicked`);
    try {
      const error = await migrateToLatest(db).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error).toMatchObject({ reason: "DatabaseUnreachable", version: null, migration: undefined });
      const message = error instanceof Error ? error.message : "";
      expect(message).toMatch(/^Could not reach the database to migrate it: .*ECONNREFUSED/);
      expect(message).not.toContain("s3cret");
    } finally {
      await db.destroy();
    }
  });
});

describe("migrateTo", () => {
  it("refuses an unknown target before touching the database", async () => {
    const db = createDatabase(`postgres://wicked@127.0.0.1:${await closedPort()}/wicked`);
    try {
      await expect(migrateTo(db, "0099_missing")).rejects.toThrow(
        `There is no migration "0099_missing"; known: ${Object.keys(migrations).join(", ")}.`,
      );
    } finally {
      await db.destroy();
    }
  });
});
