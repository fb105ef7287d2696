import { randomBytes } from "node:crypto";
import pg from "pg";

/** A database of its own for one test file, on the server the integration tests were given. */
export interface TestDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  /** Drops the database, ending any connection still open to it; calling it again does nothing. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database with a random name next to the one `adminUrl` points at (the `databaseUrl`
 * that the integration tests' global setup provides), so test files never see each other's data. For
 * tests only; nothing in a component imports it.
 */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `wicked_test_${randomBytes(6).toString("hex")}`;
  await admin(adminUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop: () => {
      dropping ??= admin(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
      ).then(() => undefined);
      return dropping;
    },
  };
}

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: "wicked-tests" });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
