// ztunnel's side of the config stream. Subscribes to addresses and policies, applies each response
// (decoding every resource on its own: a bad one is NACKed with its reason and the previous version
// kept, the rest applies), ACKs or NACKs by nonce, and reconnects with backoff. While the control
// plane is away the store keeps the last good config, so traffic and new connections keep working.
import { create, fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { addressFromProto, authorizationFromProto, TYPE_ADDRESS, TYPE_AUTHORIZATION } from "../../api/index.ts";
import { AuthorizationSchema } from "../../api/index.ts";
import { AGGREGATED_DISCOVERY_ENCODED, DeltaDiscoveryRequestSchema, type DeltaDiscoveryRequest, type DeltaDiscoveryResponseEncoded } from "../../api/index.ts";
import { resourceFieldsFromBinary, type ResourceFields } from "../../api/index.ts";
import { AddressSchema, addressFieldsFromBinary } from "../../api/index.ts";
import { HttpRouteSchema, L7PolicySchema } from "../../api/index.ts";
import { httpRouteFromProto, l7PolicyFromProto, TYPE_HTTP_ROUTE, TYPE_L7_POLICY } from "../../api/index.ts";
import type { Authorization, HttpRoute, L7Policy, Service, Workload } from "../../api/index.ts";
import { AsyncQueue } from "../../shared/index.ts";
import { Backoff } from "../../shared/index.ts";
import { describeError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { StateStore } from "../state/store.ts";
import type { ProxyDelta } from "../state/proxy-state.ts";
import { policyKey, serviceKey } from "../../api/index.ts";
import { compareStrings } from "../../shared/index.ts";
import type { ConfigSource } from "../state/config-source.ts";

type Held = {
  version: string;
  value: { workload: Workload } | { service: Service } | { policy: Authorization } | { route: HttpRoute } | { l7Policy: L7Policy };
};

/** What ztunnel subscribes to; a waypoint adds its routes and L7 policies. */
export const ZTUNNEL_TYPES: readonly string[] = [TYPE_ADDRESS, TYPE_AUTHORIZATION];
export const WAYPOINT_TYPES: readonly string[] = [TYPE_ADDRESS, TYPE_AUTHORIZATION, TYPE_HTTP_ROUTE, TYPE_L7_POLICY];

type Change = { upsert: unknown[]; remove: string[] };
type PendingDelta = Record<"workloads" | "services" | "policies" | "routes" | "l7Policies", Change>;

const emptyDelta = (): PendingDelta => ({
  workloads: { upsert: [], remove: [] },
  services: { upsert: [], remove: [] },
  policies: { upsert: [], remove: [] },
  routes: { upsert: [], remove: [] },
  l7Policies: { upsert: [], remove: [] },
});

/** Where a held resource goes in a delta, and its key there. */
function slot(v: Held["value"]): { kind: keyof PendingDelta; key: string; value: unknown } {
  if ("workload" in v) return { kind: "workloads", key: v.workload.uid, value: v.workload };
  if ("service" in v) return { kind: "services", key: serviceKey(v.service), value: v.service };
  if ("route" in v) return { kind: "routes", key: policyKey(v.route), value: v.route };
  if ("l7Policy" in v) return { kind: "l7Policies", key: policyKey(v.l7Policy), value: v.l7Policy };
  return { kind: "policies", key: policyKey(v.policy), value: v.policy };
}

/** The Any's value, if it holds a `schema` message (the name after the type URL's last "/", as anyUnpack checks). */
function valueOf(any: ResourceFields["resource"] & {}, schema: DescMessage): Uint8Array {
  if (any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1) !== schema.typeName) throw new Error(`resource is not a ${schema.typeName}`);
  return any.value;
}

function decode(type: string, any: ResourceFields["resource"] & {}): Held["value"] {
  // Addresses are read from the wire directly: a first sync decodes every workload in the cluster (wire-read.ts).
  if (type === TYPE_ADDRESS) return addressFromProto(addressFieldsFromBinary(valueOf(any, AddressSchema)));
  if (type === TYPE_HTTP_ROUTE) return { route: httpRouteFromProto(fromBinary(HttpRouteSchema, valueOf(any, HttpRouteSchema))) };
  if (type === TYPE_L7_POLICY) return { l7Policy: l7PolicyFromProto(fromBinary(L7PolicySchema, valueOf(any, L7PolicySchema))) };
  return { policy: authorizationFromProto(fromBinary(AuthorizationSchema, valueOf(any, AuthorizationSchema))) };
}

export class XdsClient implements ConfigSource {
  private readonly transport: Transport;
  private readonly node: string;
  private readonly clusterId: string;
  private readonly store: StateStore;
  private readonly log: Logger;
  private readonly types: readonly string[];
  private readonly held: Map<string, Map<string, Held>>;
  private readonly synced = new Set<string>();
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 15_000 });
  private abort: AbortController | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** After the first whole config, each response reaches the store as a delta (ProxyState.applyDelta). */
  private published = false;
  private pending = emptyDelta();
  /** True while a stream is established and has delivered config. */
  connected = false;
  acks = 0;
  nacks = 0;

  private readonly nodeId: string;

  /** `nodeId` names the proxy to the control plane: ztunnel~<node> (default) or waypoint~<ns>/<name>. */
  constructor(opts: { transport: Transport; node: string; clusterId: string; store: StateStore; log: Logger; nodeId?: string; types?: readonly string[] }) {
    this.types = opts.types ?? ZTUNNEL_TYPES;
    this.held = new Map(this.types.map((t) => [t, new Map()]));
    this.transport = opts.transport;
    this.node = opts.node;
    this.nodeId = opts.nodeId ?? `ztunnel~${opts.node}`;
    this.clusterId = opts.clusterId;
    this.store = opts.store;
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
    const client = createClient(AGGREGATED_DISCOVERY_ENCODED, this.transport);
    const requests = new AsyncQueue<DeltaDiscoveryRequest>();
    for (const [i, type] of this.types.entries()) {
      requests.push(
        create(DeltaDiscoveryRequestSchema, {
          ...(i === 0 ? { node: { id: this.nodeId, nodeName: this.node, clusterId: this.clusterId } } : {}),
          typeUrl: type,
          resourceNamesSubscribe: ["*"],
          initialResourceVersions: Object.fromEntries([...this.held.get(type)!.entries()].map(([n, h]) => [n, h.version])),
        }),
      );
    }
    try {
      for await (const resp of client.deltaAggregatedResources(requests, { signal: this.abort.signal })) {
        requests.push(this.apply(resp));
        this.backoff.reset();
      }
    } finally {
      requests.close();
    }
  }

  /** Applies one response and returns the ACK or NACK for it. */
  private apply(resp: DeltaDiscoveryResponseEncoded): DeltaDiscoveryRequest {
    const type = resp.typeUrl;
    const held = this.held.get(type);
    if (!held) {
      this.nacks++;
      return create(DeltaDiscoveryRequestSchema, { typeUrl: type, responseNonce: resp.nonce, errorDetail: { message: `unsupported type ${type}` } });
    }
    const errors: Record<string, string> = {};
    for (const [i, bytes] of resp.resources.entries()) {
      let r: ResourceFields = { name: "", version: "", resource: undefined };
      try {
        r = resourceFieldsFromBinary(bytes);
        if (!r.resource) throw new Error("resource body is missing");
        const value = decode(type, r.resource);
        const before = held.get(r.name);
        held.set(r.name, { version: r.version, value });
        // Until the first whole config is published, `held` is all there is to say.
        if (!this.published) continue;
        const next = slot(value);
        const old = before && slot(before.value);
        // A name that now holds another kind of resource (a workload became a service) leaves its old slot.
        if (old && old.kind !== next.kind) this.pending[old.kind].remove.push(old.key);
        this.pending[next.kind].upsert.push(next.value);
      } catch (err) {
        // A resource too broken to have a name is named by its place in the response.
        errors[r.name || `resources[${i}]`] = describeError(err);
      }
    }
    for (const name of resp.removedResources) {
      const before = held.get(name);
      if (!before) continue;
      held.delete(name);
      if (!this.published) continue;
      const { kind, key } = slot(before.value);
      this.pending[kind].remove.push(key);
    }
    this.synced.add(type);
    // Publish only once both types arrived: workloads without their policies would briefly allow too much.
    if (this.types.every((t) => this.synced.has(t))) this.publish();
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

  private publish(): void {
    const pending = this.pending;
    this.pending = emptyDelta();
    if (this.published) {
      const delta: ProxyDelta = {};
      for (const [kind, c] of Object.entries(pending) as Array<[keyof PendingDelta, Change]>) {
        if (c.upsert.length || c.remove.length) (delta as Record<string, Change>)[kind] = c;
      }
      this.connected = true;
      if (Object.keys(delta).length) this.store.applyDelta(delta);
      return;
    }
    this.published = true;
    const workloads: Workload[] = [];
    const services: Service[] = [];
    const policies: Authorization[] = [];
    const routes: HttpRoute[] = [];
    const l7Policies: L7Policy[] = [];
    for (const m of this.held.values()) {
      for (const h of m.values()) {
        if ("workload" in h.value) workloads.push(h.value.workload);
        else if ("service" in h.value) services.push(h.value.service);
        else if ("route" in h.value) routes.push(h.value.route);
        else if ("l7Policy" in h.value) l7Policies.push(h.value.l7Policy);
        else policies.push(h.value.policy);
      }
    }
    const byName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) =>
      compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`);
    // Stable order: config dumps and the proxy's indexes do not depend on arrival order.
    workloads.sort((a, b) => compareStrings(a.uid, b.uid));
    services.sort((a, b) => compareStrings(`${a.namespace}/${a.hostname}`, `${b.namespace}/${b.hostname}`));
    policies.sort(byName);
    this.connected = true;
    const l7 = this.types.includes(TYPE_HTTP_ROUTE) ? { routes: routes.sort(byName), l7Policies: l7Policies.sort(byName) } : {};
    this.store.replace({ workloads, services, policies, ...l7 }, "changed");
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop?.catch(() => undefined);
  }
}
