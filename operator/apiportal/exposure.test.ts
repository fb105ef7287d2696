import { describe, expect, it } from "vitest";
import type { ApiPortal, ExposureSpec } from "../../api/v1alpha1/index.ts";
import {
  DESIRED_HASH_ANNOTATION,
  exposureStatus,
  type HttpRoute,
  observeExposure,
  planExposure,
} from "./exposure.ts";

function portal(
  exposure: ExposureSpec | undefined,
  urls: Partial<ApiPortal["spec"]["urls"]> = {},
  mode: "External" | "Managed" = "External",
): ApiPortal {
  return {
    apiVersion: "wicked.dev/v1alpha1",
    kind: "ApiPortal",
    metadata: { name: "developer-portal", namespace: "shop", uid: "uid-1", generation: 1 },
    spec: {
      displayName: "Shop",
      urls: {
        portal: "https://developer.shop.example.com",
        gateway: "https://api.shop.example.com",
        ...urls,
      },
      database: { urlSecretRef: { name: "db", key: "url" } },
      gateway:
        mode === "Managed"
          ? { mode, managed: { databaseUrlSecretRef: { name: "kong-db", key: "url" } } }
          : { mode, adminUrl: "http://kong-admin.kong:8001" },
      ...(exposure ? { exposure } : {}),
    },
  };
}

const ingressSpec: ExposureSpec = {
  ingress: {
    className: "nginx",
    annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "8m" },
    tls: { secretName: "portal-tls", issuerRef: { name: "letsencrypt", kind: "ClusterIssuer" } },
  },
};
const routeSpec: ExposureSpec = {
  httpRoute: { parentRefs: [{ name: "public", namespace: "gateways", sectionName: "https" }] },
};

describe("planExposure", () => {
  it("renders nothing when spec.exposure is not set, and says so", () => {
    const p = portal(undefined);
    expect(planExposure(p)).toBeUndefined();
    expect(observeExposure(p, undefined, undefined)).toMatchObject({
      status: "False",
      reason: "ExposureNotConfigured",
    });
    expect(exposureStatus(undefined, undefined)).toBeUndefined();
  });

  it("routes the portal UI, portal API and auth server of one host by path in one Ingress, with TLS from a cert-manager issuer", () => {
    const plan = planExposure(portal(ingressSpec));
    expect(plan?.kind).toBe("Ingress");
    const ingress = plan?.ingress;
    expect(ingress?.metadata.name).toBe("developer-portal");
    expect(ingress?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "ApiPortal",
      uid: "uid-1",
      controller: true,
    });
    expect(ingress?.metadata.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/proxy-body-size": "8m",
      "cert-manager.io/cluster-issuer": "letsencrypt",
    });
    expect(ingress?.spec).toEqual({
      ingressClassName: "nginx",
      tls: [{ hosts: ["developer.shop.example.com"], secretName: "portal-tls" }],
      rules: [
        {
          host: "developer.shop.example.com",
          http: {
            paths: [
              {
                path: "/auth",
                pathType: "Prefix",
                backend: { service: { name: "developer-portal-auth-server", port: { number: 3010 } } },
              },
              {
                path: "/api",
                pathType: "Prefix",
                backend: { service: { name: "developer-portal-portal-api", port: { number: 3001 } } },
              },
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "developer-portal-portal-ui", port: { number: 3000 } } },
              },
            ],
          },
        },
      ],
    });
    // An External gateway is Kong's own business: its URL is not routed here.
    expect(plan?.routes.map((r) => r.name)).toEqual(["portal", "api", "auth"]);
  });

  it("routes the API host to the managed Kong's proxy Service, with its own rule and TLS host", () => {
    const plan = planExposure(portal({ ingress: { tls: { secretName: "tls" } } }, {}, "Managed"));
    expect(plan?.ingress?.spec?.ingressClassName).toBeUndefined();
    expect(plan?.ingress?.metadata.annotations?.["cert-manager.io/issuer"]).toBeUndefined();
    expect(plan?.ingress?.spec?.tls).toEqual([
      { hosts: ["api.shop.example.com", "developer.shop.example.com"], secretName: "tls" },
    ]);
    expect(plan?.ingress?.spec?.rules?.[0]).toEqual({
      host: "api.shop.example.com",
      http: {
        paths: [
          {
            path: "/",
            pathType: "Prefix",
            backend: { service: { name: "developer-portal-kong-proxy", port: { number: 80 } } },
          },
        ],
      },
    });
    expect(plan?.routes.find((r) => r.name === "gateway")).toMatchObject({
      url: "https://api.shop.example.com",
      service: "developer-portal-kong-proxy",
      object: "developer-portal",
    });
  });

  it("names a namespaced issuer with cert-manager.io/issuer and leaves TLS out for plain http URLs", () => {
    const plan = planExposure(
      portal(
        { ingress: { tls: { secretName: "tls", issuerRef: { name: "ca" } } } },
        { portal: "http://portal.internal", gateway: "http://gw.internal" },
      ),
    );
    expect(plan?.ingress?.metadata.annotations).toMatchObject({ "cert-manager.io/issuer": "ca" });
    expect(plan?.ingress?.spec?.tls).toBeUndefined();
  });

  it("renders one HTTPRoute per host, attached to the named listener, one PathPrefix rule per URL", () => {
    const plan = planExposure(
      portal(
        routeSpec,
        { api: "https://api-portal.shop.example.com", auth: "https://login.shop.example.com/realms/shop" },
        "Managed",
      ),
    );
    expect(plan?.kind).toBe("HTTPRoute");
    const routes = plan?.httpRoutes ?? [];
    expect(routes.map((r) => r.metadata.name)).toEqual([
      "developer-portal-portal",
      "developer-portal-api",
      "developer-portal-auth",
      "developer-portal-gateway",
    ]);
    expect(routes[0]?.spec.parentRefs).toEqual([
      {
        group: "gateway.networking.k8s.io",
        kind: "Gateway",
        name: "public",
        namespace: "gateways",
        sectionName: "https",
      },
    ]);
    expect(routes.map((r) => r.spec.hostnames)).toEqual([
      ["developer.shop.example.com"],
      ["api-portal.shop.example.com"],
      ["login.shop.example.com"],
      ["api.shop.example.com"],
    ]);
    expect(routes[2]?.spec.rules).toEqual([
      {
        matches: [{ path: { type: "PathPrefix", value: "/realms/shop" } }],
        backendRefs: [{ name: "developer-portal-auth-server", port: 3010 }],
      },
    ]);
    expect(routes[3]?.spec.rules[0]?.backendRefs).toEqual([
      { name: "developer-portal-kong-proxy", port: 80 },
    ]);
    expect(plan?.routes.map((r) => [r.name, r.object])).toEqual([
      ["portal", "developer-portal-portal"],
      ["api", "developer-portal-api"],
      ["auth", "developer-portal-auth"],
      ["gateway", "developer-portal-gateway"],
    ]);
  });

  it("puts the URLs that share a host into that host's HTTPRoute, longest path first", () => {
    const plan = planExposure(portal(routeSpec));
    expect(plan?.httpRoutes).toHaveLength(1);
    expect(plan?.httpRoutes?.[0]?.spec.rules.map((r) => r.matches[0]?.path.value)).toEqual([
      "/auth",
      "/api",
      "/",
    ]);
  });

  it("leaves out and reports URLs with an IP address for a host or the same host and path as another", () => {
    const p = portal(ingressSpec, {
      api: "https://10.0.0.7/api",
      auth: "https://developer.shop.example.com/",
    });
    const plan = planExposure(p);
    expect(plan?.routes.map((r) => r.name)).toEqual(["portal"]);
    const observed = observeExposure(p, plan, { applied: true });
    expect(observed).toMatchObject({ status: "False", reason: "UnroutableUrls" });
    expect(observed.message).toContain("urls.api (https://10.0.0.7/api) has an IP address for a host");
    expect(observed.message).toContain(
      "urls.auth (https://developer.shop.example.com/) has the same host and path as urls.portal",
    );
  });

  it("renders no Ingress when no URL can be routed (it would have no rule)", () => {
    const plan = planExposure(
      portal(ingressSpec, {
        portal: "https://192.0.2.10",
        api: "https://192.0.2.10/api",
        auth: "https://192.0.2.10/auth",
      }),
    );
    expect(plan?.ingress).toBeUndefined();
    expect(plan?.unroutable).toHaveLength(3);
  });

  it("changes the desired hash when a field is removed, so the next apply drops it", () => {
    const withAnnotation = planExposure(portal(ingressSpec))?.ingress;
    const without = planExposure(
      portal({
        ingress: {
          className: "nginx",
          tls: { secretName: "portal-tls", issuerRef: { name: "letsencrypt", kind: "ClusterIssuer" } },
        },
      }),
    )?.ingress;
    const hash = (o: typeof without) => o?.metadata.annotations?.[DESIRED_HASH_ANNOTATION];
    expect(hash(without)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(without)).not.toBe(hash(withAnnotation));
    expect(hash(planExposure(portal(ingressSpec))?.ingress)).toBe(hash(withAnnotation));
  });
});

describe("observeExposure", () => {
  it("waits, without blocking Ready, until an ingress controller publishes an address, then names it", () => {
    const p = portal(ingressSpec);
    const plan = planExposure(p);
    const waiting = observeExposure(p, plan, { applied: true, ingress: {} });
    expect(waiting).toMatchObject({ status: "Unknown", reason: "WaitingForController" });
    expect(waiting.message).toContain("no ingress controller of class nginx has published an address");
    const ingress = {
      status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }, { hostname: "lb.example.net" }] } },
    };
    expect(observeExposure(p, plan, { applied: true, ingress })).toMatchObject({
      status: "True",
      reason: "Admitted",
      message:
        "Ingress developer-portal routes https://developer.shop.example.com, https://developer.shop.example.com/api, https://developer.shop.example.com/auth through 203.0.113.7, lb.example.net",
    });
    expect(exposureStatus(plan, { applied: true, ingress })).toEqual({
      kind: "Ingress",
      routes: [
        {
          name: "portal",
          url: "https://developer.shop.example.com",
          service: "developer-portal-portal-ui",
          object: "developer-portal",
        },
        {
          name: "api",
          url: "https://developer.shop.example.com/api",
          service: "developer-portal-portal-api",
          object: "developer-portal",
        },
        {
          name: "auth",
          url: "https://developer.shop.example.com/auth",
          service: "developer-portal-auth-server",
          object: "developer-portal",
        },
      ],
      addresses: ["203.0.113.7", "lb.example.net"],
    });
  });

  it("follows each parent's Accepted condition on the HTTPRoutes", () => {
    const p = portal(routeSpec);
    const plan = planExposure(p);
    const desired = plan?.httpRoutes?.[0] as HttpRoute;
    const withParent = (status: string, reason: string, message = ""): HttpRoute => ({
      ...desired,
      status: {
        parents: [
          {
            parentRef: { name: "public", namespace: "gateways", sectionName: "https" },
            controllerName: "example.com/gateway",
            conditions: [{ type: "Accepted", status, reason, message }],
          },
        ],
      },
    });
    expect(observeExposure(p, plan, { applied: true, httpRoutes: [desired] })).toMatchObject({
      status: "Unknown",
      reason: "WaitingForController",
    });
    expect(
      observeExposure(p, plan, { applied: true, httpRoutes: [withParent("True", "Accepted")] }),
    ).toMatchObject({
      status: "True",
      reason: "Admitted",
    });
    const refused = observeExposure(p, plan, {
      applied: true,
      httpRoutes: [withParent("False", "NotAllowedByListeners", "namespace shop is not allowed")],
    });
    expect(refused).toMatchObject({ status: "False", reason: "RouteNotAccepted" });
    expect(refused.message).toContain(
      "HTTPRoute developer-portal-portal at Gateway gateways/public (listener https): NotAllowedByListeners (namespace shop is not allowed)",
    );
  });

  it("says the Gateway API is not installed when the cluster does not serve HTTPRoute, and reports no routed URL", () => {
    const p = portal(routeSpec);
    const plan = planExposure(p);
    const outcome = { applied: false, reason: "GatewayApiNotInstalled" } as const;
    const observed = observeExposure(p, plan, outcome);
    expect(observed).toMatchObject({ status: "False", reason: "GatewayApiNotInstalled" });
    expect(observed.message).toContain("install the Gateway API CRDs");
    expect(exposureStatus(plan, outcome)).toEqual({ kind: "HTTPRoute" });
  });
});
