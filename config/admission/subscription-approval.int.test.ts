/** The approval policy against the real apiserver: only identities with the verb approve may decide. */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createNamespace, installCrds, kubectl, kubectlOk } from "../../test/support/kubectl.ts";

const kubeconfig = inject("kubeconfig");
const userKubeconfig = inject("userKubeconfig");
let ns: string;

const subscription = (name: string, approval?: object) =>
  JSON.stringify({
    apiVersion: "wicked.dev/v1alpha1",
    kind: "Subscription",
    metadata: { name, namespace: ns },
    spec: {
      clientRef: { name: "app" },
      apiRef: { name: "orders" },
      planRef: { name: "partner" },
      ...(approval ? { approval } : {}),
    },
  });
const approve = (kc: string, name: string) =>
  kubectl(kc, [
    "patch",
    "subscription",
    name,
    "-n",
    ns,
    "--type=merge",
    "-p",
    '{"spec":{"approval":{"decision":"Approved","decidedBy":"jane@example.com","plan":"partner"}}}',
  ]);

beforeAll(async () => {
  installCrds(kubeconfig);
  kubectlOk(kubeconfig, ["apply", "-f", "config/admission/subscription-approval.yaml"]);
  ns = createNamespace(kubeconfig, "approval");
  // jane may edit subscriptions (RBAC) but is not an approver.
  kubectlOk(kubeconfig, [
    "create",
    "role",
    "edit-subscriptions",
    "-n",
    ns,
    "--verb=get,list,create,patch,update",
    "--resource=subscriptions.wicked.dev",
  ]);
  kubectlOk(kubeconfig, [
    "create",
    "rolebinding",
    "jane-edits",
    "-n",
    ns,
    "--role=edit-subscriptions",
    "--user=jane@example.com",
  ]);
  // The policy takes effect once the apiserver has loaded it.
  kubectlOk(kubeconfig, ["create", "-f", "-"], subscription("probe"));
  for (let i = 0; i < 60 && approve(userKubeconfig, "probe").code === 0; i++) {
    kubectlOk(kubeconfig, ["delete", "subscription", "probe", "-n", ns]);
    kubectlOk(kubeconfig, ["create", "-f", "-"], subscription("probe"));
    await new Promise((r) => setTimeout(r, 1000));
  }
});

describe.runIf(userKubeconfig !== "")("subscription approval admission", () => {
  it("refuses a non-approver's approval with a message saying what is missing", () => {
    kubectlOk(userKubeconfig, ["create", "-f", "-"], subscription("pending"));
    const r = approve(userKubeconfig, "pending");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "only approvers may set spec.approval of a Subscription: jane@example.com needs the verb approve",
    );
  });

  it("refuses a non-approver creating an already approved subscription, but not a pending one", () => {
    const r = kubectl(
      userKubeconfig,
      ["create", "-f", "-"],
      subscription("self-approved", { decision: "Approved", decidedBy: "jane@example.com", plan: "partner" }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("only approvers may set spec.approval");
    expect(
      kubectl(userKubeconfig, ["create", "-f", "-"], subscription("undecided", { decision: "Pending" })).code,
    ).toBe(0);
  });

  it("lets other spec changes through for non-approvers", () => {
    expect(
      kubectl(userKubeconfig, [
        "patch",
        "subscription",
        "pending",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"spec":{"planRef":{"name":"basic"}}}',
      ]).code,
    ).toBe(0);
  });

  it("allows an approver", () => {
    kubectlOk(kubeconfig, [
      "create",
      "rolebinding",
      "jane-approves",
      "-n",
      ns,
      "--clusterrole=wicked-approver",
      "--user=jane@example.com",
    ]);
    expect(approve(userKubeconfig, "pending").code).toBe(0);
    expect(
      kubectlOk(kubeconfig, [
        "get",
        "subscription",
        "pending",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.approval.decision}",
      ]),
    ).toBe("Approved");
  });
});
