// Command-line usage errors: wrong arguments end with a message naming the fix and exit status 2,
// never a stack trace.
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {
  override name = "UsageError";
}

/** node:util parseArgs (strict unless the config says otherwise), with its errors (unknown option, missing value) as UsageErrors. */
export function parseArgsOrUsage<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    if (String((err as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS")) throw new UsageError(`${(err as Error).message}\n\n${usage}`);
    throw err;
  }
}

/**
 * For scripts: --help/-h prints the usage and exits 0 (before anything else runs, so it works on any
 * machine); a wrong option prints what is wrong and the usage, and exits 2.
 */
export function scriptArgs<T extends ParseArgsConfig>(name: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ ...config, args }) as ReturnType<typeof parseArgs<T>>;
  } catch (err) {
    if (!String((err as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS")) throw err;
    process.stderr.write(`${name}: ${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}
