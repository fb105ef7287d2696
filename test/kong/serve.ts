// Part of the Kong TEST DOUBLE (test/kong): never imported by the product.
// Runs the double as a process of its own, so that a benchmark measures the operator and not the double in
// its own event loop (and so an image can run it in place of Kong). Environment: KONG_DOUBLE_HOST (default
// 127.0.0.1), KONG_ADMIN_PORT and KONG_PROXY_PORT (default: free ports), KONG_DOUBLE_CONTROL_PORT (when
// set: GET /counters answers {"writes": n}, POST /counters/reset zeroes it). Prints one JSON line with the
// URLs once it listens; SIGTERM stops it.
import { createServer } from "node:http";
import { listen, sendJson } from "./http-util.ts";
import { startKongDouble } from "./kong-double.ts";

const host = process.env.KONG_DOUBLE_HOST ?? "127.0.0.1";
const port = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
const adminPort = port("KONG_ADMIN_PORT");
const proxyPort = port("KONG_PROXY_PORT");
const double = await startKongDouble({
  host,
  ...(adminPort !== undefined ? { adminPort } : {}),
  ...(proxyPort !== undefined ? { proxyPort } : {}),
});

let controlUrl: string | undefined;
const controlPort = port("KONG_DOUBLE_CONTROL_PORT");
const control = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/counters") return sendJson(res, 200, { writes: double.writes });
  if (req.method === "POST" && req.url === "/counters/reset") {
    double.resetCounters();
    return sendJson(res, 204, undefined);
  }
  sendJson(res, 404, { message: "Not found" });
});
if (controlPort !== undefined) controlUrl = `http://${host}:${await listen(control, host, controlPort)}`;

process.stdout.write(
  `${JSON.stringify({ adminUrl: double.adminUrl, proxyUrl: double.proxyUrl, controlUrl })}\n`,
);
process.once("SIGTERM", () => {
  control.close();
  void double.stop().then(() => process.exit(0));
});
