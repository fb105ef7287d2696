/**
 * wicked's one CLI: `wicked <component>` runs one component in the foreground until SIGTERM or SIGINT.
 * Components are loaded on demand, so each process loads only its own code.
 */

/** Something running that can be stopped gracefully. */
interface Running {
  stop(): Promise<void>;
}

const components: Record<string, { about: string; start(): Promise<Running> }> = {
  operator: {
    about: "the controllers (leader-elected), Kong sync, mailer and chatbot",
    start: async () => {
      const { operatorConfigFromEnv, startOperator } = await import("../operator/main.ts");
      return startOperator(operatorConfigFromEnv());
    },
  },
  "portal-api": {
    about: "the portal REST API (port 3001)",
    start: async () => (await import("../portal-api/main.ts")).runPortalApiFromEnv(),
  },
  "auth-server": {
    about: "the OAuth 2.0 / OpenID Connect server (port 3010)",
    start: async () => (await import("../auth-server/main.ts")).runAuthServerFromEnv(),
  },
  "portal-ui": {
    about: "the developer portal web UI (port 3000)",
    start: async () => (await import("../portal-ui/main.ts")).runPortalUiFromEnv(),
  },
  webhooks: {
    about: "the validating and defaulting admission webhooks (TLS)",
    start: async () => (await import("../webhooks/main.ts")).runWebhooksFromEnv(),
  },
};

function usage(): never {
  const lines = Object.entries(components).map(([name, c]) => `  ${name.padEnd(12)} ${c.about}`);
  console.error(["usage: wicked <component>", "", ...lines].join("\n"));
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const component = components[argv[0] ?? ""];
  if (!component) usage();
  const running = await component.start();
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
