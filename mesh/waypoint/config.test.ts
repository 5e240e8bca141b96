import { describe, expect, it } from "vitest";
import { helpText, loadWaypointConfig } from "./config.ts";

describe("waypoint configuration", () => {
  it("defaults: Istio's ports, the service account named after the Gateway", () => {
    const c = loadWaypointConfig({ WAYPOINT_NAME: "waypoint", POD_NAMESPACE: "demo", LOCAL_CONFIG: "/x.yaml", CA_DIR: "/ca" });
    expect(c).toMatchObject({
      gateway: { namespace: "demo", name: "waypoint" },
      serviceAccount: "waypoint",
      config: { kind: "file", path: "/x.yaml" },
      ca: { kind: "dir", path: "/ca" },
      listen: { host: "0.0.0.0", hbone: 15008, metrics: 15020, readiness: 15021, admin: 15000 },
      startupEfficiency: true,
    });
    expect(loadWaypointConfig({ WAYPOINT_NAME: "w", POD_NAMESPACE: "d", LOCAL_CONFIG: "/x", CA_DIR: "/ca", STARTUP_EFFICIENCY: "off" }).startupEfficiency).toBe(
      false,
    );
  });

  it("control-plane mode needs the root cert and token", () => {
    const c = loadWaypointConfig({ WAYPOINT_NAME: "w", POD_NAMESPACE: "demo", XDS_ADDRESS: "https://198.18.0.2:15012", ROOT_CERT: "/r.pem", TOKEN_FILE: "/t" });
    expect(c.config).toEqual({ kind: "xds", address: "https://198.18.0.2:15012" });
    expect(c.controlPlane?.identity).toBe("spiffe://cluster.local/ns/istio-system/sa/istiod");
  });

  it("names every bad variable with what it accepts", () => {
    let msg = "";
    try {
      loadWaypointConfig({ XDS_ADDRESS: "https://198.18.0.2:15012", HBONE_PORT: "99999", LOG_LEVEL: "loud" });
    } catch (err) {
      msg = (err as Error).message;
    }
    for (const v of ["WAYPOINT_NAME: is required", "POD_NAMESPACE: is required", "HBONE_PORT", "LOG_LEVEL"]) expect(msg).toContain(v);
    expect(msg).toContain("--help");
    expect(() => loadWaypointConfig({ WAYPOINT_NAME: "w", POD_NAMESPACE: "demo", XDS_ADDRESS: "https://198.18.0.2:15012" })).toThrow(
      /ROOT_CERT: is required[\s\S]*TOKEN_FILE: is required/,
    );
  });

  it("--help lists every variable", () => {
    const text = helpText();
    for (const v of ["WAYPOINT_NAME", "POD_NAMESPACE", "LOCAL_CONFIG", "XDS_ADDRESS", "CA_DIR", "STARTUP_EFFICIENCY"]) expect(text).toContain(v);
  });
});
