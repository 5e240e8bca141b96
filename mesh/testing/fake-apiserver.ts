// A small in-test Kubernetes API server: answers list and watch for any collection path from objects
// the test controls, records the queries it got, and can end watches or answer 410 Gone on demand.
import http from "node:http";
import type net from "node:net";
import { attachPodStreams, type PodStreamHandlers } from "./fake-pod-streams.ts";

export interface FakeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export class FakeApiServer {
  private readonly server: http.Server;
  private readonly collections = new Map<string, Map<string, FakeObject>>();
  private readonly watchers = new Map<string, Set<http.ServerResponse>>();
  private rv = 100;
  readonly requests: Array<{ path: string; watch: boolean; resourceVersion: string | null }> = [];
  /** When set, the next watch on a path is answered with an ERROR 410 event. */
  readonly expireNextWatch = new Set<string>();
  /** Paths whose watches end as soon as they start, without an event (a server or proxy that drops them). */
  readonly dropWatches = new Set<string>();
  /** TokenReview answers by token; unknown tokens are unauthenticated. */
  readonly tokens = new Map<string, { username: string; extra?: Record<string, string[]> }>();

  private readonly closeStreams: (() => void) | undefined;
  /** Called after an object is created, replaced or deleted through the API (not by seed/put). */
  onWrite: ((event: { method: string; path: string; object: FakeObject }) => void | Promise<void>) | undefined;

  /** `streams` serves pods' exec and portforward (WebSocket), as the kubelet behind a real API server. */
  constructor(opts: { streams?: PodStreamHandlers } = {}) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.closeStreams = opts.streams ? attachPodStreams(this.server, opts.streams) : undefined;
  }

  /** Listens on 127.0.0.1 (port 0: any free port) and returns the server URL. */
  async start(port = 0): Promise<string> {
    await new Promise<void>((r) => this.server.listen(port, "127.0.0.1", () => r()));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  private coll(path: string): Map<string, FakeObject> {
    let c = this.collections.get(path);
    if (!c) {
      c = new Map();
      this.collections.set(path, c);
    }
    return c;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== "GET") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => this.write(req, res, body ? (JSON.parse(body) as FakeObject) : undefined));
      return;
    }
    const single = /^(.*\/namespaces\/[^/]+\/[^/]+)\/([^/]+)$/.exec(new URL(req.url ?? "/", "http://x").pathname);
    if (single) {
      const obj = this.collections.get(single[1]!)?.get(`${single[1]!.split("/namespaces/")[1]!.split("/")[0]}/${single[2]}`);
      res.setHeader("content-type", "application/json");
      if (!obj) {
        res.writeHead(404).end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404, reason: "NotFound" }));
        return;
      }
      res.end(JSON.stringify(obj));
      return;
    }
    // A cluster-scoped object (a MutatingWebhookConfiguration, a Namespace): its collection holds "/<name>".
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const clusterScoped = this.collections.get(path.slice(0, path.lastIndexOf("/")))?.get(`/${path.slice(path.lastIndexOf("/") + 1)}`);
    if (clusterScoped) {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(clusterScoped));
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    const watch = url.searchParams.get("watch") === "true";
    this.requests.push({ path: url.pathname, watch, resourceVersion: url.searchParams.get("resourceVersion") });
    res.setHeader("content-type", "application/json");
    if (!watch) {
      const selector = parseSelector(url.searchParams.get("labelSelector"));
      const items = [...this.coll(url.pathname).values()].filter((o) => selector((o.metadata.labels ?? {}) as Record<string, string>));
      res.end(JSON.stringify({ kind: "List", apiVersion: "v1", metadata: { resourceVersion: String(this.rv) }, items }));
      return;
    }
    res.writeHead(200);
    res.flushHeaders(); // a real API server answers a watch at once; clients wait for the headers
    if (this.expireNextWatch.delete(url.pathname)) {
      res.end(
        JSON.stringify({
          type: "ERROR",
          object: { kind: "Status", apiVersion: "v1", status: "Failure", code: 410, reason: "Expired", message: "too old resource version" },
        }) + "\n",
      );
      return;
    }
    if (this.dropWatches.has(url.pathname)) {
      res.end();
      return;
    }
    const set = this.watchers.get(url.pathname) ?? new Set();
    set.add(res);
    this.watchers.set(url.pathname, set);
    res.on("close", () => set.delete(res));
  }

  /** POST (create, 409 if it exists; TokenReview), PUT (replace, 404 if missing), PATCH (status; server-side apply). */
  private write(req: http.IncomingMessage, res: http.ServerResponse, body: FakeObject | undefined): void {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    res.setHeader("content-type", "application/json");
    if (path.endsWith("/tokenreviews")) {
      const token = (body as { spec?: { token?: string } } | undefined)?.spec?.token ?? "";
      const user = this.tokens.get(token);
      res.end(
        JSON.stringify({
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          status: user ? { authenticated: true, user } : { authenticated: false, error: "invalid bearer token" },
        }),
      );
      return;
    }
    if (req.method === "DELETE") {
      const coll = path.slice(0, path.lastIndexOf("/"));
      const name = path.slice(path.lastIndexOf("/") + 1);
      const ns = coll.split("/namespaces/")[1]?.split("/")[0] ?? "";
      const obj = this.collections.get(coll)?.get(`${ns}/${name}`);
      if (!obj) return void res.writeHead(404).end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404, reason: "NotFound" }));
      this.remove(coll, ns, name);
      void this.notifyWrite("DELETE", path, obj, res, JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Success" }));
      return;
    }
    if (!body) return void res.writeHead(400).end("{}");
    const ns = body.metadata?.namespace ?? "";
    if (req.method === "POST") {
      const coll = path;
      if (this.coll(coll).has(`${ns}/${body.metadata.name}`))
        return void res.writeHead(409).end(JSON.stringify({ kind: "Status", code: 409, reason: "AlreadyExists" }));
      this.put(coll, body);
      res.writeHead(201);
      void this.notifyWrite("POST", path, body, res, JSON.stringify(body));
      return;
    }
    if (req.method === "PUT") {
      const coll = path.slice(0, path.lastIndexOf("/"));
      if (!this.coll(coll).has(`${ns}/${body.metadata.name}`))
        return void res.writeHead(404).end(JSON.stringify({ kind: "Status", code: 404, reason: "NotFound" }));
      this.put(coll, body);
      return void res.end(JSON.stringify(body));
    }
    if (req.method === "PATCH" && path.endsWith("/status")) {
      const objPath = path.slice(0, -"/status".length);
      const coll = objPath.slice(0, objPath.lastIndexOf("/"));
      const name = objPath.slice(objPath.lastIndexOf("/") + 1);
      const ns = coll.split("/namespaces/")[1]?.split("/")[0] ?? "";
      const plural = coll.slice(coll.lastIndexOf("/") + 1);
      // The object may be stored under its namespaced path or the cluster-wide one (as seeded for lists).
      let existing: FakeObject | undefined;
      let at = "";
      for (const [p, c] of this.collections) if (p.endsWith(`/${plural}`) && !existing) [existing, at] = [c.get(`${ns}/${name}`), p];
      if (!existing) return void res.writeHead(404).end(JSON.stringify({ kind: "Status", code: 404, reason: "NotFound" }));
      this.patches.push({ path, contentType: String(req.headers["content-type"]), body });
      existing.status = (body as unknown as { status: unknown }).status;
      // As the API server does: a status write is a new resourceVersion and a MODIFIED event for watchers.
      existing.metadata.resourceVersion = String(++this.rv);
      this.emit(at, "MODIFIED", existing);
      return void res.end(JSON.stringify(existing));
    }
    if (req.method === "PATCH" && String(req.headers["content-type"]).startsWith("application/apply-patch")) {
      // Server-side apply: create or replace the object at this path.
      const coll = path.slice(0, path.lastIndexOf("/"));
      this.patches.push({ path, contentType: String(req.headers["content-type"]), body });
      this.put(coll, body);
      return void res.end(JSON.stringify(body));
    }
    res.writeHead(405).end("{}");
  }

  /** Answers a write once onWrite has seen it (a failing hook answers 500 with its message). */
  private async notifyWrite(method: string, path: string, object: FakeObject, res: http.ServerResponse, body: string): Promise<void> {
    try {
      await this.onWrite?.({ method, path, object });
      res.end(body);
    } catch (err) {
      res.writeHead(500).end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 500, message: (err as Error).message }));
    }
  }

  /** PATCH requests received, for assertions. */
  readonly patches: Array<{ path: string; contentType: string; body: unknown }> = [];

  /** An object as stored, for assertions. */
  get(path: string, namespace: string, name: string): FakeObject | undefined {
    return this.collections.get(path)?.get(`${namespace}/${name}`);
  }

  private emit(path: string, type: "ADDED" | "MODIFIED" | "DELETED", obj: FakeObject): void {
    for (const w of this.watchers.get(path) ?? []) w.write(JSON.stringify({ type, object: obj }) + "\n");
  }

  private key(o: FakeObject): string {
    return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
  }

  /** Stores the object without telling watchers (as if changed while nobody watched). */
  seed(path: string, obj: FakeObject): void {
    obj.metadata.resourceVersion = String(++this.rv);
    this.coll(path).set(this.key(obj), obj);
  }

  put(path: string, obj: FakeObject): void {
    const existed = this.coll(path).has(this.key(obj));
    this.seed(path, obj);
    this.emit(path, existed ? "MODIFIED" : "ADDED", obj);
  }

  remove(path: string, namespace: string | undefined, name: string, notify = true): void {
    const c = this.coll(path);
    const obj = c.get(`${namespace ?? ""}/${name}`);
    if (!obj) return;
    c.delete(`${namespace ?? ""}/${name}`);
    obj.metadata.resourceVersion = String(++this.rv);
    if (notify) this.emit(path, "DELETED", obj);
  }

  /** Ends every open watch on a path, as an API server does on timeout. */
  endWatches(path: string): void {
    for (const w of this.watchers.get(path) ?? []) w.end();
  }

  watching(path: string): number {
    return this.watchers.get(path)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.closeStreams?.();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Equality-based label selectors ("a=b,c!=d,e"), as list requests carry them. */
export function parseSelector(text: string | null): (labels: Record<string, string>) => boolean {
  const terms = (text ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  return (labels) =>
    terms.every((t) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(t);
      if (ne) return labels[ne[1]!] !== ne[2];
      const eq = /^([^=]+)==?(.*)$/.exec(t);
      if (eq) return labels[eq[1]!] === eq[2];
      return t in labels;
    });
}
