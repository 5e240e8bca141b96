// The delta config stream (AggregatedDiscoveryService.DeltaAggregatedResources). Per connection and
// type, we remember which version of each resource the proxy holds; a new snapshot sends only what
// differs (added/changed resources, removed names). A reconnecting proxy sends what it holds in
// initial_resource_versions and gets exactly the difference: a clean resync. ACKs and NACKs are
// matched to the nonce of the response they answer.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { TYPE_ADDRESS, TYPE_AUTHORIZATION } from "../../api/index.ts";
import { TYPE_HTTP_ROUTE, TYPE_L7_POLICY } from "../../api/index.ts";
import { DeltaDiscoveryResponseEncodedSchema, type DeltaDiscoveryRequest, type DeltaDiscoveryResponseEncoded } from "../../api/index.ts";
import { joinResources, withJoinedResources } from "../../api/index.ts";
import { AsyncQueue } from "../../shared/index.ts";
import { describeError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { Authenticator, Caller } from "../auth/authenticator.ts";
import type { PushSnapshot, SnapshotBuilder, VersionedResource } from "./snapshot.ts";
import type { ControlPlaneMetrics } from "./metrics.ts";
import type { BurstCollector } from "./burst-collector.ts";

export const SUPPORTED_TYPES = [TYPE_ADDRESS, TYPE_AUTHORIZATION, TYPE_HTTP_ROUTE, TYPE_L7_POLICY] as const;

interface Subscription {
  /**
   * What the proxy holds, by name: the versions it said it had when it subscribed, then, after each
   * response, the snapshot's own map for the type, which the response left it holding exactly. A
   * reference, not a copy: each proxy used to copy every name it was sent (12,500 for 10,000 pods) into
   * a map of its own, memory and CPU that grew with proxies times resources (issue 13). The address map
   * is patched in place by the next snapshot (snapshot.ts patchWorkloads), which is safe because every
   * snapshot is sent to every subscription as it is published (start), so the next send takes the
   * delta and never reads `known`.
   */
  known: ReadonlyMap<string, string | VersionedResource>;
  /** The snapshot version whose resources `known` matches exactly, if any. */
  syncedTo: number | undefined;
  /** `answered` tells the burst collector a whole-config response was answered (or never will be). */
  pending: Map<string, { version: number; sentAt: number; changedAt: number; answered?: () => void }>;
  acked: { version: number; nonce: string; at: number } | undefined;
  lastNack: { version: number; message: string; resourceErrors: Record<string, string> } | undefined;
}

export interface ProxyConnection {
  id: number;
  caller: Caller;
  nodeName: string;
  proxyId: string;
  connectedAt: Date;
  subs: Map<string, Subscription>;
  queue: AsyncQueue<DeltaDiscoveryResponseEncoded>;
}

/**
 * Which resource types a caller may subscribe to: undefined allows, a string is the reason to refuse.
 * Waypoint routes and L7 policies reveal other namespaces' HTTP configuration, so only waypoints get them.
 */
export type TypeAuthorizer = (caller: Caller, typeUrl: string) => string | undefined;

/** Waypoint types only for the service account of an istio-waypoint Gateway (`isWaypoint`). */
export function waypointTypesOnlyForWaypoints(isWaypoint: (namespace: string, serviceAccount: string) => boolean): TypeAuthorizer {
  return (caller, typeUrl) => {
    if (typeUrl !== TYPE_HTTP_ROUTE && typeUrl !== TYPE_L7_POLICY) return undefined;
    const id = caller.identity;
    if (id && isWaypoint(id.namespace, id.serviceAccount)) return undefined;
    return "only waypoints (the service account of an istio-waypoint Gateway) receive HTTP routes and L7 policies";
  };
}

export type AckListener = (c: ProxyConnection, type: string, version: number, latencyMs: number) => void;

export class AdsServer {
  private readonly builder: SnapshotBuilder;
  private readonly auth: Authenticator;
  private readonly metrics: ControlPlaneMetrics;
  private readonly log: Logger;
  private readonly conns = new Set<ProxyConnection>();
  private readonly ackListeners = new Set<AckListener>();
  private nextId = 1;
  /** Nonces only need to be unique per stream (a proxy echoes them): a counter, not random bytes per response. */
  private nonces = 0;
  private unsubscribe: (() => void) | undefined;
  /**
   * Whole-type responses of the current snapshot version, by type (wholeType); dropped when a new version
   * is published. By version, not by snapshot object: a translation that changed nothing gives a new
   * object of the same version, and keyed by object every such one joined the 3 MB again (issue 13).
   */
  private readonly wholeTypes = new Map<string, { version: number; resources: VersionedResource[]; joined: Uint8Array }>();

  private readonly mayReceive: TypeAuthorizer;
  private readonly afterBurst: BurstCollector | undefined;

  constructor(opts: {
    builder: SnapshotBuilder;
    auth: Authenticator;
    metrics: ControlPlaneMetrics;
    log: Logger;
    mayReceive?: TypeAuthorizer;
    /** Told the size of every whole-type response, to return their memory once a burst of them is over. */
    afterBurst?: BurstCollector;
  }) {
    this.mayReceive = opts.mayReceive ?? (() => undefined);
    this.afterBurst = opts.afterBurst;
    this.builder = opts.builder;
    this.auth = opts.auth;
    this.metrics = opts.metrics;
    this.log = opts.log;
  }

  start(): void {
    this.unsubscribe = this.builder.subscribe((snap) => {
      for (const [type, w] of this.wholeTypes) if (w.version !== snap.version) this.wholeTypes.delete(type);
      for (const c of this.conns) for (const type of c.subs.keys()) this.send(c, type, snap, false);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.afterBurst?.close();
    for (const c of this.conns) c.queue.close();
  }

  onAck(l: AckListener): () => void {
    this.ackListeners.add(l);
    return () => this.ackListeners.delete(l);
  }

  connections(): ProxyConnection[] {
    return [...this.conns];
  }

  /** The RPC handler: an async generator of responses while a reader consumes requests. */
  /** One proxy's config stream; `authorization` is its bearer token header. */
  async *stream(requests: AsyncIterable<DeltaDiscoveryRequest>, authorization: string | null | undefined): AsyncGenerator<DeltaDiscoveryResponseEncoded> {
    const caller = await this.auth.authenticate(authorization ?? null);
    const conn: ProxyConnection = {
      id: this.nextId++,
      caller,
      nodeName: caller.node ?? "",
      proxyId: "",
      connectedAt: new Date(),
      subs: new Map(),
      queue: new AsyncQueue(),
    };
    this.conns.add(conn);
    this.metrics.connected.set(this.conns.size);
    this.log.info({ conn: conn.id, caller: caller.subject }, "proxy connected");
    const reader = (async () => {
      for await (const req of requests) this.onRequest(conn, req);
      conn.queue.close();
    })().catch((err) => conn.queue.fail(err instanceof ConnectError ? err : new ConnectError(describeError(err), Code.Internal)));
    try {
      yield* conn.queue;
    } finally {
      for (const sub of conn.subs.values()) for (const p of sub.pending.values()) p.answered?.();
      this.conns.delete(conn);
      this.metrics.connected.set(this.conns.size);
      this.log.info({ conn: conn.id, node: conn.nodeName }, "proxy disconnected");
      await reader.catch(() => undefined);
    }
  }

  private onRequest(conn: ProxyConnection, req: DeltaDiscoveryRequest): void {
    if (req.node) {
      if (conn.caller.node && req.node.nodeName && req.node.nodeName !== conn.caller.node) {
        throw new ConnectError(`this token belongs to node ${conn.caller.node}, not ${req.node.nodeName}`, Code.PermissionDenied);
      }
      conn.nodeName = req.node.nodeName || conn.nodeName;
      conn.proxyId = req.node.id || conn.proxyId;
    }
    if (!(SUPPORTED_TYPES as readonly string[]).includes(req.typeUrl)) {
      throw new ConnectError(`unsupported type ${JSON.stringify(req.typeUrl)}; supported: ${SUPPORTED_TYPES.join(", ")}`, Code.InvalidArgument);
    }
    const refusal = this.mayReceive(conn.caller, req.typeUrl);
    if (refusal) {
      this.log.warn({ conn: conn.id, caller: conn.caller.subject, type: short(req.typeUrl), reason: refusal }, "subscription refused");
      throw new ConnectError(`${conn.caller.subject} may not receive ${short(req.typeUrl)}: ${refusal}`, Code.PermissionDenied);
    }
    let sub = conn.subs.get(req.typeUrl);
    if (!req.responseNonce) {
      // A new subscription (first connect or reconnect): start from what the proxy says it holds.
      for (const p of sub?.pending.values() ?? []) p.answered?.();
      sub = { known: new Map(Object.entries(req.initialResourceVersions)), syncedTo: undefined, pending: new Map(), acked: undefined, lastNack: undefined };
      conn.subs.set(req.typeUrl, sub);
      const snap = this.builder.current;
      if (snap) this.send(conn, req.typeUrl, snap, true);
      return;
    }
    if (!sub) throw new ConnectError(`ACK for ${req.typeUrl} before subscribing to it`, Code.InvalidArgument);
    const p = sub.pending.get(req.responseNonce);
    if (!p) return; // an answer to a response we no longer track (superseded); nothing to do
    sub.pending.delete(req.responseNonce);
    p.answered?.();
    if (req.errorDetail) {
      this.metrics.rejects.inc({ type: short(req.typeUrl) });
      sub.lastNack = { version: p.version, message: req.errorDetail.message, resourceErrors: req.errorDetail.resourceErrors };
      this.log.warn(
        {
          conn: conn.id,
          node: conn.nodeName,
          type: short(req.typeUrl),
          version: p.version,
          reason: req.errorDetail.message,
          resources: req.errorDetail.resourceErrors,
        },
        "proxy rejected config (NACK)",
      );
      return;
    }
    sub.acked = { version: p.version, nonce: req.responseNonce, at: Date.now() };
    const latency = performance.now() - p.changedAt;
    for (const l of this.ackListeners) l(conn, req.typeUrl, p.version, latency);
  }

  private send(conn: ProxyConnection, type: string, snap: PushSnapshot, initial: boolean): void {
    const sub = conn.subs.get(type)!;
    const current = snap.types.get(type) ?? new Map();
    const d = snap.delta && sub.syncedTo === snap.delta.from ? snap.delta.types.get(type) : undefined;
    // A proxy that holds exactly the previous snapshot gets the precomputed delta; others are compared
    // resource by resource (first subscription, reconnect, or after a skipped snapshot).
    // A proxy that holds nothing (a first connect) gets the whole type, joined once per snapshot.
    const whole = !d && sub.known.size === 0 ? this.wholeType(snap, type) : undefined;
    const changed = whole ? whole.resources : d ? d.changed : [...current.values()].filter((r) => versionOf(sub.known.get(r.name)) !== r.version);
    const removed = d ? d.removed : [...sub.known.keys()].filter((n) => !current.has(n)).sort();
    sub.syncedTo = snap.version;
    sub.known = current;
    if (!initial && changed.length === 0 && removed.length === 0) return;
    const nonce = (++this.nonces).toString(16);
    const resp = create(DeltaDiscoveryResponseEncodedSchema, {
      systemVersionInfo: String(snap.version),
      typeUrl: type,
      resources: whole ? [] : changed.map((r) => r.encoded),
      removedResources: removed,
      nonce,
    });
    if (whole) withJoinedResources(resp, whole.joined);
    const answered = whole && this.afterBurst?.noteSent(whole.joined.length);
    sub.pending.set(nonce, { version: snap.version, sentAt: performance.now(), changedAt: snap.changedAt, ...(answered ? { answered } : {}) });
    conn.queue.push(resp);
    this.metrics.pushes.inc({ type: short(type) });
    this.metrics.pushLatency.observe({ type: short(type) }, initial ? 0 : (performance.now() - snap.changedAt) / 1000);
  }

  /** Every resource of a type in a snapshot, and their joined wire form (joinResources), made once per snapshot. */
  private wholeType(snap: PushSnapshot, type: string): { resources: VersionedResource[]; joined: Uint8Array } {
    let w = this.wholeTypes.get(type);
    if (!w || w.version !== snap.version) {
      const resources = [...(snap.types.get(type)?.values() ?? [])];
      w = { version: snap.version, resources, joined: joinResources(resources.map((r) => r.encoded)) };
      this.wholeTypes.set(type, w);
    }
    return w;
  }

  /** For /debug/connections. */
  describe(): Array<Record<string, unknown>> {
    return [...this.conns]
      .sort((a, b) => a.id - b.id)
      .map((c) => ({
        id: c.id,
        node: c.nodeName,
        proxy: c.proxyId,
        caller: c.caller.subject,
        connectedAt: c.connectedAt.toISOString(),
        types: Object.fromEntries(
          [...c.subs.entries()].map(([t, s]) => [
            short(t),
            { resources: s.known.size, ackedVersion: s.acked?.version ?? null, pending: s.pending.size, lastNack: s.lastNack ?? null },
          ]),
        ),
      }));
  }
}

function versionOf(held: string | VersionedResource | undefined): string | undefined {
  return typeof held === "object" ? held.version : held;
}

function short(type: string): string {
  return type.slice(type.lastIndexOf(".") + 1);
}
