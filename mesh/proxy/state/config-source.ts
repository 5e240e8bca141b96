// Where a proxy's resources come from: the control plane's stream (XdsClient) or a local file
// (LocalConfigSource). Both publish into the proxy's StateStore; the proxy only starts and closes them.
export interface ConfigSource {
  /** Starts delivering; resolves once the source runs (not when the first config arrived: see readiness). */
  start(): Promise<void>;
  /** Stops delivering and releases what it holds; the store keeps the last config. Idempotent. */
  close(): Promise<void>;
}
