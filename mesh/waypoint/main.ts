#!/usr/bin/env node
// The waypoint's entry point. V8's efficiency mode is turned on first and the program is imported only
// then: the mode saves most when it is on before the modules load (mesh/proxy/startup-efficiency.ts), so
// nothing but that module is imported statically here.
import { StartupEfficiency, startupEfficiencyWanted } from "../proxy/startup-efficiency.ts";

const startup = StartupEfficiency.begin(startupEfficiencyWanted());
const { runWaypoint } = await import("./program.ts");
runWaypoint(startup);
