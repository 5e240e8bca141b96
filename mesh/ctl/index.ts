// mesh/ctl: its only entry point for code outside the folder.
export * from "./commands.ts";
