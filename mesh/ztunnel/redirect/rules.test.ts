import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderDelete, renderSetUpdate, renderSidecarTable, renderTable } from "./rules.ts";
import { expectGolden } from "../../testing/expect.ts";

const ports = { outbound: 15001, inboundPlaintext: 15006, hbone: 15008 };
const dir = join(import.meta.dirname, "testdata");

const golden = (name: string, actual: string) => expectGolden(join(dir, name), actual);

describe("capture rules (golden)", () => {
  it("renders the table as a takeover that rewrites the chains and keeps the enrolled set", () => {
    const text = renderTable(ports);
    golden("table.nft", text);
    expect(text).not.toMatch(/delete|flush set/);
  });
  it("renders set updates with sorted, de-duplicated IPv4 members, and an empty set without elements", () => {
    golden("set-update.nft", renderSetUpdate(["198.18.1.11", "198.18.1.2", "198.18.1.2", "fd00::1"]) + renderSetUpdate([]));
  });
  it("renders the sidecar table for one pod, excluding the proxy's own user", () => {
    golden("sidecar.nft", renderSidecarTable("198.18.1.12", { ...ports, metrics: 15020, readiness: 15021 }, 1337));
    expect(() => renderSidecarTable("fd00::1", { ...ports, metrics: 15020, readiness: 15021 }, 1337)).toThrow(/IPv4/);
  });
  it("renders an atomic set update and the delete", () => {
    golden("update.nft", renderSetUpdate(["198.18.1.3", "198.18.1.2"]) + renderSetUpdate([]) + renderDelete());
  });
});
