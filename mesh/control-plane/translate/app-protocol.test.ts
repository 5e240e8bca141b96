// Istio's explicit protocol selection: appProtocol first, then the port name's prefix.
import { describe, expect, it } from "vitest";
import { appProtocolOf } from "./app-protocol.ts";

describe("appProtocolOf", () => {
  it.each([
    [{ name: "http" }, "http"],
    [{ name: "http-web" }, "http"],
    [{ name: "HTTP2-api" }, "http2"],
    [{ name: "grpc" }, "grpc"],
    [{ name: "grpc-backend" }, "grpc"],
    [{ name: "grpc-web" }, "http"],
    [{ name: "grpc-web-ui" }, "http"],
    [{ name: "tcp-db" }, undefined],
    [{ name: "https" }, undefined],
    [{ name: "web" }, undefined],
    [{}, undefined],
    [{ appProtocol: "grpc" }, "grpc"],
    [{ appProtocol: "kubernetes.io/h2c" }, "http2"],
    [{ appProtocol: "kubernetes.io/ws" }, "http"],
    // appProtocol wins over the name, even when it declares something a waypoint does not speak.
    [{ name: "grpc", appProtocol: "http" }, "http"],
    [{ name: "http", appProtocol: "tcp" }, undefined],
    [{ name: "http2", appProtocol: "mysql" }, undefined],
  ] as const)("%j -> %s", (port, want) => {
    expect(appProtocolOf(port)).toBe(want);
  });
});
