import { describe, expect, it } from "vitest";
import { parseCmdline } from "./apiserver-restart.ts";

describe("parseCmdline", () => {
  it("splits /proc/<pid>/cmdline at NUL bytes, keeping arguments with spaces whole", () => {
    const raw = "/bin/kube-apiserver\0--secure-port=6443\0--token-auth-file=/tmp/a b/tokens.csv\0";
    expect(parseCmdline(raw)).toEqual([
      "/bin/kube-apiserver",
      "--secure-port=6443",
      "--token-auth-file=/tmp/a b/tokens.csv",
    ]);
  });
});
