// The install command the prerequisites check prints: plain packages, and a browser without Debian's
// recommended packages (which would pull in systemd, avahi and CUPS).
import { describe, expect, it } from "vitest";
import { describeMissing, installCommand } from "./prereqs.ts";

describe("prerequisites", () => {
  it("names the command that installs what is missing", () => {
    expect(installCommand([{ tool: "nft", pkg: "nftables" }])).toBe("apt-get install -y nftables");
    expect(
      installCommand([
        { tool: "chromium-headless-shell", pkg: "chromium-headless-shell" },
        { tool: "nft", pkg: "nftables" },
        { tool: "ip", pkg: "iproute2" },
      ]),
    ).toBe("apt-get install -y nftables iproute2 && apt-get install -y --no-install-recommends chromium-headless-shell");
    expect(describeMissing({ root: true, linux: true, missing: [{ tool: "nft", pkg: "nftables" }] })).toBe(
      "missing tools: nft; install them with: apt-get install -y nftables (or pass --install-deps)",
    );
    expect(describeMissing({ root: true, linux: true, missing: [] })).toBe("");
  });
});
