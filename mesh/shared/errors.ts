// Typed errors with stable codes. Operators grep for the code; the message says what to check.

export const ErrorCode = {
  Config: "AL_ERR_CONFIG",
  InvalidResource: "AL_ERR_INVALID_RESOURCE",
  Identity: "AL_ERR_IDENTITY",
  Ca: "AL_ERR_CA",
  Tls: "AL_ERR_TLS",
  PolicyDenied: "AL_ERR_POLICY_DENIED",
  BadRequest: "AL_ERR_BAD_REQUEST",
  UpstreamConnect: "AL_ERR_UPSTREAM_CONNECT",
  UpstreamTimeout: "AL_ERR_UPSTREAM_TIMEOUT",
  NoHealthyUpstream: "AL_ERR_NO_HEALTHY_UPSTREAM",
  SelfCall: "AL_ERR_SELF_CALL",
  OriginalDst: "AL_ERR_ORIGINAL_DST",
  Redirect: "AL_ERR_REDIRECT",
  Exec: "AL_ERR_EXEC",
  Draining: "AL_ERR_DRAINING",
  IdleTimeout: "AL_ERR_IDLE_TIMEOUT",
  Limit: "AL_ERR_LIMIT",
  Kube: "AL_ERR_KUBE",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class MeshError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MeshError";
    this.code = code;
  }
}

export function isMeshError(err: unknown, code?: ErrorCode): err is MeshError {
  return err instanceof MeshError && (code === undefined || err.code === code);
}

/** One line for logs: the code when we have one, then the message chain. */
export function describeError(err: unknown): string {
  if (err instanceof MeshError) {
    const cause = err.cause === undefined ? "" : `: ${describeError(err.cause)}`;
    return `${err.code}: ${err.message}${cause}`;
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
