// gRPC message framing: however the wire cuts the bytes, the same messages; over-long and compressed
// messages refused from their prefix.
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { grpcFrame } from "../testing/index.ts";
import { MessageReader } from "./grpc-messages.ts";

describe("MessageReader", () => {
  it("yields messages however the bytes are cut, and holds only an incomplete one", () => {
    const wire = Buffer.concat([grpcFrame(Buffer.from("one")), grpcFrame(Buffer.alloc(0)), grpcFrame(Buffer.from("three"))]);
    for (let cut = 1; cut < wire.length; cut++) {
      const r = new MessageReader(100);
      const got: string[] = [];
      for (const part of [wire.subarray(0, cut), wire.subarray(cut)]) {
        const out = r.push(part);
        if ("error" in out) throw out.error;
        got.push(...out.map((m) => Buffer.from(m).toString()));
      }
      expect(got).toEqual(["one", "", "three"]);
      expect(r.pending).toBe(0);
    }
    const r = new MessageReader(100);
    const byByte = [...wire].flatMap((b) => {
      const out = r.push(Buffer.from([b]));
      if ("error" in out) throw out.error;
      return out.map((m) => Buffer.from(m).toString());
    });
    expect(byByte).toEqual(["one", "", "three"]);
  });

  it("refuses a message over the bound from its prefix alone, and a compressed one", () => {
    const big = new MessageReader(10, "response").push(grpcFrame(Buffer.alloc(11)).subarray(0, 5));
    expect("error" in big && big.error.code).toBe(Code.ResourceExhausted);
    expect("error" in big && big.error.rawMessage).toBe("response message larger than 10 bytes");
    const zipped = new MessageReader(10).push(grpcFrame(Buffer.from("x"), 1));
    expect("error" in zipped && zipped.error.code).toBe(Code.Internal);
  });
});
