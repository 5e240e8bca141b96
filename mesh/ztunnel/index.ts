// mesh/ztunnel: its only entry point for code outside the folder.
export * from "./app.ts";
