/** The chart ships exactly the CRDs `make crds` generates (hack/helm.sh sync-crds copies them). */
import { describe, expect, it } from "vitest";
import { generateProjectCrds, staleCrds } from "../../hack/crdgen/main.ts";

describe("charts/wicked/crds", () => {
  it("holds exactly what `make crds` generates from api/v1alpha1", () => {
    const stale = staleCrds(generateProjectCrds(), "charts/wicked/crds");
    expect(stale, "run `make crds` and `hack/helm.sh sync-crds`").toEqual([]);
  });
}, 60_000);
