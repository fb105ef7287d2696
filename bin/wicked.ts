#!/usr/bin/env -S node --import tsx
/**
 * wicked's one CLI: `wicked <component>` runs one component in the foreground until SIGTERM or SIGINT.
 */
import { operatorConfigFromEnv, startOperator } from "../operator/main.ts";

const usage = "usage: wicked operator";

async function main(argv: string[]): Promise<void> {
  const command = argv[0];
  if (command !== "operator") {
    console.error(usage);
    process.exit(2);
  }
  const running = await startOperator(operatorConfigFromEnv());
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
    });
  }
}

await main(process.argv.slice(2));
