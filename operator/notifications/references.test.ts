import { describe, expect, it } from "vitest";
import { PortalReferences } from "./references.ts";

const secret = (namespace: string, name: string) => ({ metadata: { namespace, name } });

describe("PortalReferences", () => {
  it("maps a Secret to the portals that read it, forgetting what a portal no longer reads", () => {
    const refs = new PortalReferences();
    const portal = { namespace: "ns", name: "p" };
    refs.set(portal, ["Secret:ns/smtp", "ConfigMap:ns/templates"]);
    expect(refs.portalsReading(secret("ns", "smtp"), "Secret")).toEqual([portal]);
    expect(refs.portalsReading(secret("ns", "templates"), "ConfigMap")).toEqual([portal]);
    expect(refs.portalsReading(secret("ns", "templates"), "Secret")).toEqual([]);
    refs.set(portal, ["Secret:ns/smtp2"]);
    expect(refs.portalsReading(secret("ns", "smtp"), "Secret")).toEqual([]);
    expect(refs.portalsReading(secret("ns", "smtp2"), "Secret")).toEqual([portal]);
  });
});
