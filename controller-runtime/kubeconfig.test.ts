import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { inClusterAccess, kubeconfigAccess, loadClusterAccess } from "./kubeconfig.ts";

const dir = mkdtempSync(join(tmpdir(), "wicked-kubeconfig-"));
let files = 0;

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown> = {}): string {
  const path = join(dir, `config-${files++}`);
  writeFileSync(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster }],
      users: [{ name: "u", user }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    }),
  );
  return path;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("kubeconfigAccess", () => {
  it("takes the current context's server, CA data and token", async () => {
    const access = kubeconfigAccess(
      kubeconfig(
        { server: "https://127.0.0.1:6443/", "certificate-authority-data": b64("CA") },
        { token: "t0k" },
      ),
    );
    expect(access.server).toBe("https://127.0.0.1:6443");
    expect(await access.connection()).toEqual({
      ca: Buffer.from("CA"),
      rejectUnauthorized: true,
      authorization: "Bearer t0k",
    });
  });

  it("reads certificate files relative to the kubeconfig, and a token file", async () => {
    writeFileSync(join(dir, "ca.crt"), "CA-FILE");
    writeFileSync(join(dir, "client.crt"), "CERT");
    writeFileSync(join(dir, "client.key"), "KEY");
    writeFileSync(join(dir, "token"), "from-file\n");
    const access = kubeconfigAccess(
      kubeconfig(
        {
          server: "https://k8s.example:443",
          "certificate-authority": "ca.crt",
          "insecure-skip-tls-verify": false,
          "tls-server-name": "kubernetes",
        },
        { "client-certificate": "client.crt", "client-key": join(dir, "client.key"), tokenFile: "token" },
      ),
    );
    expect(await access.connection()).toEqual({
      ca: Buffer.from("CA-FILE"),
      cert: Buffer.from("CERT"),
      key: Buffer.from("KEY"),
      servername: "kubernetes",
      rejectUnauthorized: true,
      authorization: "Bearer from-file",
    });
  });

  it("runs an exec plugin once per credential lifetime, with its env and args", async () => {
    const log = join(dir, "exec.log");
    const plugin = join(dir, "plugin.sh");
    writeFileSync(
      plugin,
      `#!/bin/sh\necho "$1 $PLUGIN_ENV" >> ${log}\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token","expirationTimestamp":"2999-01-01T00:00:00Z"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const access = kubeconfigAccess(
      kubeconfig(
        { server: "https://127.0.0.1:6443", "insecure-skip-tls-verify": true },
        {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: "./plugin.sh",
            args: ["get-token"],
            env: [{ name: "PLUGIN_ENV", value: "set" }],
          },
        },
      ),
    );
    const [first, second] = await Promise.all([access.connection(), access.connection()]);
    expect(first).toEqual({ rejectUnauthorized: false, authorization: "Bearer exec-token" });
    expect(second).toEqual(first);
    expect(await access.connection()).toEqual(first);
    expect(readFileSync(log, "utf8")).toBe("get-token set\n");
  });

  it("says what to use instead of what Kubernetes retired", () => {
    const server = { server: "https://127.0.0.1:6443" };
    expect(() => kubeconfigAccess(kubeconfig(server, { "auth-provider": { name: "gcp" } }))).toThrow(
      /uses the retired auth-provider "gcp"; use an exec credential plugin/,
    );
    expect(() => kubeconfigAccess(kubeconfig(server, { username: "a", password: "b" }))).toThrow(
      /basic auth, which Kubernetes removed/,
    );
    expect(() => kubeconfigAccess(kubeconfig({ ...server, "proxy-url": "http://proxy:3128" }))).toThrow(
      /proxy-url is not supported/,
    );
  });

  it("names the file and what is missing in it", () => {
    const empty = join(dir, "empty");
    writeFileSync(empty, "apiVersion: v1\nkind: Config\n");
    expect(() => kubeconfigAccess(empty)).toThrow(`kubeconfig ${empty}: no current-context`);
    expect(() => kubeconfigAccess(kubeconfig({}))).toThrow(/cluster "c" has no server/);
    expect(() => kubeconfigAccess(join(dir, "absent"))).toThrow(/absent: cannot be read/);
  });
});

describe("inClusterAccess", () => {
  it("uses the service account's CA and token, and brackets an IPv6 service address", async () => {
    const sa = mkdtempSync(join(tmpdir(), "wicked-sa-"));
    writeFileSync(join(sa, "ca.crt"), "SA-CA");
    writeFileSync(join(sa, "token"), "sa-token");
    const access = inClusterAccess(
      { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" },
      sa,
    );
    expect(access.server).toBe("https://[fd00::1]:443");
    expect(await access.connection()).toEqual({
      ca: Buffer.from("SA-CA"),
      rejectUnauthorized: true,
      authorization: "Bearer sa-token",
    });
  });
});

describe("loadClusterAccess", () => {
  it("asks for KUBECONFIG outside a pod", () => {
    expect(() => loadClusterAccess(undefined, {})).toThrow(/set KUBECONFIG, or run in a pod/);
  });
});
