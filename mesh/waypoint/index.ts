// mesh/waypoint: its only entry point for code outside the folder.
export * from "./app.ts";
export * from "./l7/authz.ts";
export * from "./l7/route.ts";
