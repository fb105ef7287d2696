import { describe, expect, it } from "vitest";
import { resourceOfPath } from "./metrics.ts";

describe("resourceOfPath", () => {
  it("names the resource, and the subresource after a slash, of core and group paths", () => {
    expect(resourceOfPath("/api/v1/namespaces/shop/secrets/a-credentials")).toBe("secrets");
    expect(
      resourceOfPath("/apis/wicked.dev/v1alpha1/namespaces/shop/subscriptions/a/status?force=true"),
    ).toBe("subscriptions/status");
    expect(
      resourceOfPath("/apis/coordination.k8s.io/v1/namespaces/wicked-system/leases/wicked-operator"),
    ).toBe("leases");
    expect(resourceOfPath("/apis/events.k8s.io/v1/namespaces/shop/events")).toBe("events");
    expect(resourceOfPath("/api/v1/namespaces/shop")).toBe("namespaces");
  });
});
