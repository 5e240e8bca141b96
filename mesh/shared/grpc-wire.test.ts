import { describe, expect, it } from "vitest";
import { encodeGrpcMessage, grpcStatusForHttp, isGrpcContentType } from "./grpc-wire.ts";

describe("gRPC wire helpers", () => {
  it("percent-encodes grpc-message outside printable ASCII, and %", () => {
    expect(encodeGrpcMessage("plain text: ok")).toBe("plain text: ok");
    expect(encodeGrpcMessage("50%\n")).toBe("50%25%0A");
    expect(encodeGrpcMessage("é")).toBe("%C3%A9");
  });

  it("maps a proxy's own HTTP answers to gRPC statuses as gRPC's mapping table does", () => {
    expect([400, 401, 403, 404, 429, 500, 502, 503, 504].map(grpcStatusForHttp)).toEqual([13, 16, 7, 12, 14, 2, 14, 14, 14]);
  });

  it("tells gRPC content types from gRPC-web and others", () => {
    expect(["application/grpc", "application/grpc+proto", "application/grpc; charset=x", "application/GRPC+json"].map(isGrpcContentType)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["application/grpc-web", "application/grpc-web+proto", "application/json", undefined].map(isGrpcContentType)).toEqual([false, false, false, false]);
  });
});
