import { describe, expect, it } from "vitest";
import { loadConfig, parseDuration } from "./config.ts";

const required = { NODE_NAME: "node-1", LOCAL_CONFIG: "/tmp/c.yaml", CA_DIR: "/tmp/ca" };

describe("ztunnel config", () => {
  it("applies Istio's defaults", () => {
    const c = loadConfig(required);
    expect(c.listen).toEqual({ host: "0.0.0.0", outbound: 15001, inboundPlaintext: 15006, hbone: 15008, metrics: 15020, readiness: 15021, admin: 15000 });
    expect(c.drainDeadlineMs).toBe(5000);
    expect(c.certTtlSeconds).toBe(86_400);
    expect(c.poolMaxStreams).toBe(100);
    expect(c.poolIdleMs).toBe(300_000);
    expect(c.trustDomain).toBe("cluster.local");
    expect(c.redirect).toBe("none");
    expect(c.startupEfficiency).toBe(true);
  });

  it("STARTUP_EFFICIENCY takes on or off", () => {
    expect(loadConfig({ ...required, STARTUP_EFFICIENCY: "off" }).startupEfficiency).toBe(false);
    expect(() => loadConfig({ ...required, STARTUP_EFFICIENCY: "yes" })).toThrow(/STARTUP_EFFICIENCY: .*"on"/);
  });

  it("takes the resource limits, with defaults matching the README's table", () => {
    expect(loadConfig(required).limits).toEqual({
      handshakeTimeoutMs: 10_000,
      maxConcurrentStreams: 100,
      maxHandshakesPerSource: 64,
      maxConnectionsPerSource: 1024,
      maxSessionsPerIdentity: 1024,
      sessionIdleMs: 600_000,
      idleTimeoutMs: 3_600_000,
    });
    expect(loadConfig({ ...required, HBONE_HANDSHAKE_TIMEOUT: "2s", IDLE_TIMEOUT: "90s", HBONE_MAX_CONCURRENT_STREAMS: "50" }).limits).toMatchObject({
      handshakeTimeoutMs: 2000,
      idleTimeoutMs: 90_000,
      maxConcurrentStreams: 50,
    });
    expect(() => loadConfig({ ...required, MAX_CONNECTIONS_PER_SOURCE: "0", HBONE_SESSION_IDLE_TIMEOUT: "soon" })).toThrow(
      /MAX_CONNECTIONS_PER_SOURCE[\s\S]*HBONE_SESSION_IDLE_TIMEOUT/,
    );
  });

  it("lists every problem, naming the variable", () => {
    expect(() => loadConfig({ HBONE_PORT: "70000", REDIRECT: "iptables", LOG_LEVEL: "loud" })).toThrow(
      /NODE_NAME: is required[\s\S]*HBONE_PORT[\s\S]*REDIRECT[\s\S]*LOG_LEVEL/,
    );
    expect(() => loadConfig({ NODE_NAME: "n" })).toThrow(/XDS_ADDRESS: set XDS_ADDRESS[\s\S]*CA_ADDRESS: set CA_ADDRESS/);
    expect(() => loadConfig({ NODE_NAME: "n", XDS_ADDRESS: "https://198.18.0.2:15012" })).toThrow(/ROOT_CERT: is required[\s\S]*TOKEN_FILE: is required/);
  });

  it("uses the control plane for config and certificates when XDS_ADDRESS is set", () => {
    const c = loadConfig({ NODE_NAME: "n", XDS_ADDRESS: "https://198.18.0.2:15012", ROOT_CERT: "/r.pem", TOKEN_FILE: "/t" });
    expect(c.config).toEqual({ kind: "xds", address: "https://198.18.0.2:15012" });
    expect(c.ca).toEqual({ kind: "grpc", address: "https://198.18.0.2:15012" });
    expect(c.controlPlane).toEqual({ rootCert: "/r.pem", tokenFile: "/t", identity: "spiffe://cluster.local/ns/istio-system/sa/istiod" });
  });

  it("parses durations", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("5")).toBe(5000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(() => parseDuration("soon")).toThrow(/not a duration/);
  });
});
