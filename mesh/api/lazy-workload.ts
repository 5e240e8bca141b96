// A workload from the wire whose descriptive fields (name, namespace, identity, policies, telemetry
// labels) are read from its bytes on first use. A proxy's first sync takes every workload of the cluster
// (10,000 pods) and indexes them by IP, service and node; the rest of a workload is read only when this
// proxy meets it (a connection to or from it, a config dump). Building those fields for every workload was
// about a tenth of each proxy's first-sync CPU, most of it scavenging the strings (issue 13). The bytes are
// checked when they arrive (wire-workload.ts: strict UTF-8, each field once), so a bad resource is still
// refused at once, and reading them later cannot fail. Once read, the bytes are let go.
//
// Everything that looks at a Workload sees these fields as it sees a plain one's: as properties (getters),
// in JSON (toJSON, in the plain object's field order; sortedJson honours it), and in util.inspect. What
// walks own properties does not (a spread, isDeepStrictEqual, vitest's toEqual): compare toJSON() instead;
// nothing on the proxies' side copies or deep-compares workloads.
import { inspect } from "node:util";
import { DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";
import type { HealthStatus, PortMap, TunnelProtocol, WaypointRef, Workload } from "./types.ts";
import { WireCursor } from "./wire-cursor.ts";

/** The fields no proxy index reads. */
interface Described {
  name: string;
  namespace: string;
  trustDomain: string;
  serviceAccount: string;
  authorizationPolicies: readonly string[];
  canonicalName: string;
  canonicalRevision: string;
  workloadName: string;
}

const NO_POLICIES: readonly string[] = Object.freeze([]);
const RELEASED = new Uint8Array(0);

/** The described fields of a Workload message (buf[start, end)) that wire-workload.ts has checked, with its defaults. */
function describe(buf: Uint8Array, start: number, end: number): Described {
  const r = new WireCursor(buf, start, end);
  let name = "";
  let namespace = "";
  let trustDomain = "";
  let serviceAccount = "";
  let policies: string[] | undefined;
  let canonicalName = "";
  let canonicalRevision = "";
  let workloadName = "";
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 2:
        name = r.string();
        break;
      case 3:
        namespace = r.string(true);
        break;
      case 5:
        trustDomain = r.string(true);
        break;
      case 6:
        serviceAccount = r.string(true);
        break;
      case 11:
        (policies ??= []).push(r.string(true));
        break;
      case 12:
        canonicalName = r.string(true);
        break;
      case 13:
        canonicalRevision = r.string(true);
        break;
      case 14:
        workloadName = name && r.stringEquals(name) ? name : r.string(true);
        break;
      default:
        r.skip(tag & 7, tag >>> 3, 1);
    }
  }
  return {
    name,
    namespace,
    trustDomain: trustDomain || DEFAULT_TRUST_DOMAIN,
    serviceAccount: serviceAccount || "default",
    authorizationPolicies: policies ?? NO_POLICIES,
    canonicalName: canonicalName || name,
    canonicalRevision: canonicalRevision || "latest",
    workloadName: workloadName || name,
  };
}

export class LazyWorkload implements Workload {
  readonly uid: string;
  readonly ips: readonly string[];
  readonly node: string;
  readonly protocol: TunnelProtocol;
  readonly status: HealthStatus;
  readonly services: ReadonlyMap<string, PortMap>;
  declare waypoint?: WaypointRef;
  declare nativeHbone?: true;
  #buf: Uint8Array;
  readonly #start: number;
  readonly #end: number;
  #described: Described | undefined;

  /**
   * The indexed fields, and the Workload message (`buf[start, end)`, already checked) for the rest. Positional:
   * a record of the indexed fields was one more object per pod in a first sync.
   */
  constructor(
    uid: string,
    ips: readonly string[],
    node: string,
    protocol: TunnelProtocol,
    status: HealthStatus,
    services: ReadonlyMap<string, PortMap>,
    buf: Uint8Array,
    start: number,
    end: number,
  ) {
    this.uid = uid;
    this.ips = ips;
    this.node = node;
    this.protocol = protocol;
    this.status = status;
    this.services = services;
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
  }

  #read(): Described {
    if (this.#described) return this.#described;
    this.#described = describe(this.#buf, this.#start, this.#end);
    this.#buf = RELEASED;
    return this.#described;
  }

  get name(): string {
    return this.#read().name;
  }
  get namespace(): string {
    return this.#read().namespace;
  }
  get trustDomain(): string {
    return this.#read().trustDomain;
  }
  get serviceAccount(): string {
    return this.#read().serviceAccount;
  }
  get authorizationPolicies(): readonly string[] {
    return this.#read().authorizationPolicies;
  }
  get canonicalName(): string {
    return this.#read().canonicalName;
  }
  get canonicalRevision(): string {
    return this.#read().canonicalRevision;
  }
  get workloadName(): string {
    return this.#read().workloadName;
  }

  /** The plain workload with the same fields, in its field order. */
  toJSON(): Workload {
    const d = this.#read();
    const w: Workload = {
      uid: this.uid,
      name: d.name,
      namespace: d.namespace,
      ips: this.ips,
      trustDomain: d.trustDomain,
      serviceAccount: d.serviceAccount,
      node: this.node,
      protocol: this.protocol,
      status: this.status,
      services: this.services,
      authorizationPolicies: d.authorizationPolicies,
      canonicalName: d.canonicalName,
      canonicalRevision: d.canonicalRevision,
      workloadName: d.workloadName,
    };
    if (this.waypoint) w.waypoint = this.waypoint;
    if (this.nativeHbone) w.nativeHbone = true;
    return w;
  }

  [inspect.custom](_depth: number, options: object): string {
    return `LazyWorkload ${inspect(this.toJSON(), options)}`;
  }
}
