import { describe, expect, it } from "vitest";
import { sortedJson } from "./http-server.ts";

describe("sortedJson", () => {
  it("sorts keys, spells maps and sets as objects and arrays, and takes an object's own JSON form", () => {
    class Lazy {
      readonly b = 2;
      get a(): number {
        return 1;
      }
      toJSON() {
        return { b: this.b, a: this.a, ports: new Map([[80, 8080]]) };
      }
    }
    const out = JSON.parse(sortedJson({ z: new Set([1]), lazy: [new Lazy()], at: new Date(0) }));
    expect(out).toEqual({ at: "1970-01-01T00:00:00.000Z", lazy: [{ a: 1, b: 2, ports: { "80": 8080 } }], z: [1] });
    expect(Object.keys(out.lazy[0])).toEqual(["a", "b", "ports"]);
  });
});
