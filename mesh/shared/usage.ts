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
