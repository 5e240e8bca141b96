// What a proxy holds from the config stream, per type and resource name: each response's resources are
// decoded one by one (a bad one is reported with its reason and its previous version kept, the rest
// apply), and the store gets the first whole config once every subscribed type has arrived, then each
// later response as a delta (ProxyState.applyDelta). Kept apart from the stream (client.ts) so a first
// sync's cost can be measured on its own (bench/proxy-sync.ts).
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { addressFromProto, authorizationFromProto, TYPE_ADDRESS, TYPE_HTTP_ROUTE } from "../../api/index.ts";
import {
  authorizationFieldsAt,
  AuthorizationSchema,
  AddressSchema,
  addressAt,
  envelopeAt,
  HttpRouteSchema,
  L7PolicySchema,
  workloadAt,
} from "../../api/index.ts";
import type { ConfigResponse, EnvelopeFields } from "../../api/index.ts";
import { httpRouteFromProto, l7PolicyFromProto, TYPE_L7_POLICY } from "../../api/index.ts";
import type { Authorization, HttpRoute, L7Policy, Service, Workload } from "../../api/index.ts";
import { policyKey, serviceKey } from "../../api/index.ts";
import { compareStrings, describeError } from "../../shared/index.ts";
import type { StateStore } from "../state/store.ts";
import type { ProxyDelta } from "../state/proxy-state.ts";

type Kind = "workloads" | "services" | "policies" | "routes" | "l7Policies";
type Value = Workload | Service | Authorization | HttpRoute | L7Policy;

type Change = { upsert: unknown[]; remove: string[] };
type PendingDelta = Record<Kind, Change>;

const emptyDelta = (): PendingDelta => ({
  workloads: { upsert: [], remove: [] },
  services: { upsert: [], remove: [] },
  policies: { upsert: [], remove: [] },
  routes: { upsert: [], remove: [] },
  l7Policies: { upsert: [], remove: [] },
});

/** The part of the store a resource of `type` goes to (an Address is a workload or a service). */
function kindOf(type: string, v: Value): Kind {
  if (type === TYPE_ADDRESS) return "uid" in v ? "workloads" : "services";
  if (type === TYPE_HTTP_ROUTE) return "routes";
  if (type === TYPE_L7_POLICY) return "l7Policies";
  return "policies";
}

/** A held resource's key in its kind's part of a delta. */
function keyOf(kind: Kind, v: Value): string {
  switch (kind) {
    case "workloads":
      return (v as Workload).uid;
    case "services":
      return serviceKey(v as Service);
    default:
      return policyKey(v as Authorization | HttpRoute | L7Policy);
  }
}

/** Throws unless the type URL names a `schema` message (the name after its last "/", as anyUnpack checks). */
function checkType(typeUrl: string, schema: DescMessage): void {
  if (typeUrl.slice(typeUrl.lastIndexOf("/") + 1) !== schema.typeName) throw new Error(`resource is not a ${schema.typeName}`);
}

/** The envelope's value as a `schema` message's bytes. */
function valueOf(bytes: Uint8Array, e: EnvelopeFields, schema: DescMessage): Uint8Array {
  checkType(e.typeUrl, schema);
  return bytes.subarray(e.start, e.end);
}

/**
 * A resource's value, read from the envelope's bytes: Addresses and AuthorizationPolicies in place with
 * the wire cursor (a first sync reads every workload and policy in the cluster: wire-workload.ts,
 * wire-read.ts, wire-authorization.ts), a waypoint's routes and L7 policies with the library's decoder.
 */
function decode(type: string, bytes: Uint8Array, e: EnvelopeFields): Value {
  if (type === TYPE_ADDRESS) {
    checkType(e.typeUrl, AddressSchema);
    // A workload as a control plane writes it is read in one step (wire-workload.ts); the rest in two.
    const workload = workloadAt(bytes, e);
    if (workload) return workload;
    const a = addressFromProto(addressAt(bytes, e));
    return "workload" in a ? a.workload : a.service;
  }
  if (type === TYPE_HTTP_ROUTE) return httpRouteFromProto(fromBinary(HttpRouteSchema, valueOf(bytes, e, HttpRouteSchema)));
  if (type === TYPE_L7_POLICY) return l7PolicyFromProto(fromBinary(L7PolicySchema, valueOf(bytes, e, L7PolicySchema)));
  // Policies read in place with the wire cursor (wire-authorization.ts), as addresses are.
  checkType(e.typeUrl, AuthorizationSchema);
  return authorizationFromProto(authorizationFieldsAt(bytes, e.start, e.end));
}

export class HeldConfig {
  private readonly types: readonly string[];
  /**
   * Per type, each resource's value and version by name. Two maps rather than a record per resource: a
   * first sync holds 12,500 resources, and a map's table is one large object that no young-generation
   * collection copies, where 12,500 small records were each copied as they aged (issue 13).
   */
  private readonly values: Map<string, Map<string, Value>>;
  private readonly versionsByType: Map<string, Map<string, string>>;
  private readonly synced = new Set<string>();
  private readonly store: StateStore;
  /** After the first whole config, each response reaches the store as a delta. */
  private published = false;
  private pending = emptyDelta();

  constructor(types: readonly string[], store: StateStore) {
    this.types = types;
    this.store = store;
    this.values = new Map(types.map((t) => [t, new Map()]));
    this.versionsByType = new Map(types.map((t) => [t, new Map()]));
  }

  /** Whether the type is subscribed to (a response of another type is refused whole). */
  holds(type: string): boolean {
    return this.values.has(type);
  }

  /** Names and versions held of a type: what a reconnecting stream tells the control plane it has. */
  versions(type: string): Record<string, string> {
    return Object.fromEntries(this.versionsByType.get(type) ?? []);
  }

  /** True once the store has had a whole config (every type arrived at least once). */
  get ready(): boolean {
    return this.published;
  }

  /**
   * Applies one response of a subscribed type; returns the resources refused, by name (or by place in the
   * response, `resources[i]`, when a resource is too broken to have a name), with the reason.
   */
  apply(resp: Pick<ConfigResponse, "typeUrl" | "bytes" | "ranges" | "removedResources">): Record<string, string> {
    const type = resp.typeUrl;
    const held = this.values.get(type);
    const versions = this.versionsByType.get(type);
    if (!held || !versions) throw new Error(`unsupported type ${type}`);
    const errors: Record<string, string> = {};
    // Each resource is read where it lies in the response's bytes (a workload keeps them until first use:
    // they must not change after this).
    const bytes = resp.bytes;
    for (let i = 0; i < resp.ranges.length; i += 2) {
      let name = "";
      try {
        const e = envelopeAt(bytes, resp.ranges[i]!, resp.ranges[i + 1]!);
        name = e.name;
        if (!e.hasBody) throw new Error("resource body is missing");
        const next = decode(type, bytes, e);
        const before = held.get(e.name);
        held.set(e.name, next);
        versions.set(e.name, e.version);
        // Until the first whole config is published, `held` is all there is to say.
        if (!this.published) continue;
        // A name that now holds another kind of resource (a workload became a service) leaves its old slot.
        const kind = kindOf(type, next);
        if (before) {
          const was = kindOf(type, before);
          if (was !== kind) this.pending[was].remove.push(keyOf(was, before));
        }
        this.pending[kind].upsert.push(next);
      } catch (err) {
        errors[name || `resources[${i / 2}]`] = describeError(err);
      }
    }
    for (const name of resp.removedResources) {
      const before = held.get(name);
      if (!before) continue;
      held.delete(name);
      versions.delete(name);
      if (!this.published) continue;
      const was = kindOf(type, before);
      this.pending[was].remove.push(keyOf(was, before));
    }
    this.synced.add(type);
    // Publish only once every type arrived: workloads without their policies would briefly allow too much.
    if (this.types.every((t) => this.synced.has(t))) this.publish();
    return errors;
  }

  private publish(): void {
    const pending = this.pending;
    this.pending = emptyDelta();
    if (this.published) {
      const delta: ProxyDelta = {};
      for (const [kind, c] of Object.entries(pending) as Array<[Kind, Change]>) {
        if (c.upsert.length || c.remove.length) (delta as Record<string, Change>)[kind] = c;
      }
      if (Object.keys(delta).length) this.store.applyDelta(delta);
      return;
    }
    this.published = true;
    const workloads: Workload[] = [];
    const services: Service[] = [];
    const policies: Authorization[] = [];
    const routes: HttpRoute[] = [];
    const l7Policies: L7Policy[] = [];
    const lists = { workloads, services, policies, routes, l7Policies } as Record<Kind, Value[]>;
    for (const [type, m] of this.values) for (const v of m.values()) lists[kindOf(type, v)].push(v);
    const byName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) =>
      compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`);
    // Stable order: config dumps and the proxy's indexes do not depend on arrival order.
    workloads.sort((a, b) => compareStrings(a.uid, b.uid));
    services.sort((a, b) => compareStrings(`${a.namespace}/${a.hostname}`, `${b.namespace}/${b.hostname}`));
    policies.sort(byName);
    const l7 = this.types.includes(TYPE_HTTP_ROUTE) ? { routes: routes.sort(byName), l7Policies: l7Policies.sort(byName) } : {};
    this.store.replace({ workloads, services, policies, ...l7 }, "changed");
  }
}
