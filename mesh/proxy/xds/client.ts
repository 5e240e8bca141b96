// ztunnel's side of the config stream. Subscribes to addresses and policies, applies each response
// (HeldConfig: every resource decoded on its own, a bad one NACKed with its reason and its previous
// version kept, the rest applied), ACKs or NACKs by nonce, and reconnects with backoff. While the control
// plane is away the store keeps the last good config, so traffic and new connections keep working.
import { create, toBinary } from "@bufbuild/protobuf";
import { DELTA_AGGREGATED_RESOURCES_PATH, TYPE_ADDRESS, TYPE_AUTHORIZATION, TYPE_HTTP_ROUTE, TYPE_L7_POLICY } from "../../api/index.ts";
import { configResponseFromBinary, DeltaDiscoveryRequestSchema } from "../../api/index.ts";
import type { ConfigResponse, DeltaDiscoveryRequest } from "../../api/index.ts";
import { AsyncQueue } from "../../shared/index.ts";
import { Backoff } from "../../shared/index.ts";
import { describeError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { StateStore } from "../state/store.ts";
import type { ConfigSource } from "../state/config-source.ts";
import { HeldConfig } from "./held-config.ts";
import { callStream, type StreamEndpoint } from "./stream-client.ts";

/** What ztunnel subscribes to; a waypoint adds its routes and L7 policies. */
export const ZTUNNEL_TYPES: readonly string[] = [TYPE_ADDRESS, TYPE_AUTHORIZATION];
export const WAYPOINT_TYPES: readonly string[] = [TYPE_ADDRESS, TYPE_AUTHORIZATION, TYPE_HTTP_ROUTE, TYPE_L7_POLICY];

/** Opens one config stream: requests in, responses out, until either side ends it or `signal` aborts. */
export type ConfigStream = (requests: AsyncIterable<DeltaDiscoveryRequest>, signal: AbortSignal) => AsyncIterable<ConfigResponse>;

const DELTA_AGGREGATED_RESOURCES = {
  path: DELTA_AGGREGATED_RESOURCES_PATH,
  encode: (r: DeltaDiscoveryRequest) => toBinary(DeltaDiscoveryRequestSchema, r),
  // Resources stay where they are in the message's bytes until HeldConfig reads them.
  decode: configResponseFromBinary,
};

/** The config stream (DeltaAggregatedResources, resources as bytes) to a gRPC endpoint. */
export function configStream(ep: StreamEndpoint): ConfigStream {
  return (requests, signal) => callStream(ep, DELTA_AGGREGATED_RESOURCES, requests, signal);
}

export class XdsClient implements ConfigSource {
  private readonly open: ConfigStream;
  private readonly node: string;
  private readonly clusterId: string;
  private readonly log: Logger;
  private readonly types: readonly string[];
  private readonly config: HeldConfig;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 15_000 });
  private abort: AbortController | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** True while a stream is established and has delivered config. */
  connected = false;
  acks = 0;
  nacks = 0;

  private readonly nodeId: string;

  /** `nodeId` names the proxy to the control plane: ztunnel~<node> (default) or waypoint~<ns>/<name>. */
  constructor(opts: { stream: ConfigStream; node: string; clusterId: string; store: StateStore; log: Logger; nodeId?: string; types?: readonly string[] }) {
    this.types = opts.types ?? ZTUNNEL_TYPES;
    this.config = new HeldConfig(this.types, opts.store);
    this.open = opts.stream;
    this.node = opts.node;
    this.nodeId = opts.nodeId ?? `ztunnel~${opts.node}`;
    this.clusterId = opts.clusterId;
    this.log = opts.log;
  }

  async start(): Promise<void> {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.streamOnce();
        if (!this.stopped) this.log.warn("config stream ended; reconnecting");
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err: describeError(err) }, "config stream failed; keeping the last good config and reconnecting");
      }
      this.connected = false;
      if (this.stopped) break;
      await new Promise((r) => setTimeout(r, this.backoff.next()));
    }
  }

  private async streamOnce(): Promise<void> {
    this.abort = new AbortController();
    const requests = new AsyncQueue<DeltaDiscoveryRequest>();
    for (const [i, type] of this.types.entries()) {
      requests.push(
        create(DeltaDiscoveryRequestSchema, {
          ...(i === 0 ? { node: { id: this.nodeId, nodeName: this.node, clusterId: this.clusterId } } : {}),
          typeUrl: type,
          resourceNamesSubscribe: ["*"],
          initialResourceVersions: this.config.versions(type),
        }),
      );
    }
    try {
      for await (const resp of this.open(requests, this.abort.signal)) {
        requests.push(this.apply(resp));
        this.backoff.reset();
      }
    } finally {
      requests.close();
    }
  }

  /** Applies one response and returns the ACK or NACK for it. */
  private apply(resp: ConfigResponse): DeltaDiscoveryRequest {
    const type = resp.typeUrl;
    if (!this.config.holds(type)) {
      this.nacks++;
      return create(DeltaDiscoveryRequestSchema, { typeUrl: type, responseNonce: resp.nonce, errorDetail: { message: `unsupported type ${type}` } });
    }
    const errors = this.config.apply(resp);
    if (this.config.ready) this.connected = true;
    const rejected = Object.keys(errors);
    if (rejected.length) {
      this.nacks++;
      this.log.warn({ type, version: resp.systemVersionInfo, rejected: errors }, "config resources rejected; keeping their previous versions");
      return create(DeltaDiscoveryRequestSchema, {
        typeUrl: type,
        responseNonce: resp.nonce,
        errorDetail: { message: `${rejected.length} resource(s) rejected: ${rejected.join(", ")}`, resourceErrors: errors },
      });
    }
    this.acks++;
    return create(DeltaDiscoveryRequestSchema, { typeUrl: type, responseNonce: resp.nonce });
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop?.catch(() => undefined);
  }
}
