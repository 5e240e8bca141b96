// Pulumi mocks for component tests: records every registered resource, lets a test supply the outputs
// of remote components and commands (which produce nothing under mocks), and answers invokes. Call it
// before importing the code under test: ESM hoists static imports above the call.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** What the engine was told this resource waits for ("type::name"): explicit dependsOn and the resources its inputs came from. */
  dependsOn: string[];
  parent: string | undefined;
}

export interface MockOptions {
  stack?: string;
  /** Extra output state for a resource (by type and name), merged over its inputs. */
  outputs?: (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown> | undefined;
  /** Results of invokes, by token. */
  calls?: Record<string, Record<string, unknown>>;
}

export function installMocks(opts: MockOptions = {}): Registered[] {
  const registered: Registered[] = [];
  // The mocks' newResource does not see dependencies; the monitor's request does, so record them there.
  const deps = new Map<string, { dependsOn: string[]; parent: string | undefined }>();
  // urn:pulumi:<stack>::<project>::<parent types$...$type>::<name>
  const urnKey = (urn: string) => {
    const [, , qualifiedType = "", ...name] = urn.split("::");
    return `${qualifiedType.split("$").pop()}::${name.join("::")}`;
  };
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const d = deps.get(`${args.type}::${args.name}`);
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, dependsOn: d?.dependsOn ?? [], parent: d?.parent });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...opts.outputs?.(args.type, args.name, args.inputs) } };
      },
      call: (args) => opts.calls?.[args.token] ?? args.inputs,
    },
    "ambient-lab",
    opts.stack ?? "test",
  );
  type Req = { getType(): string; getName(): string; getDependenciesList(): string[]; getParent(): string };
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: unknown): unknown };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    deps.set(`${req.getType()}::${req.getName()}`, {
      dependsOn: req.getDependenciesList().map(urnKey),
      parent: req.getParent() ? urnKey(req.getParent()) : undefined,
    });
    return original(req, cb);
  };
  return registered;
}

/** The value of an Output, for assertions. */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Children register asynchronously after their parent's constructor returns. */
export function settle(ms = 100): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A k6 summary line as the Benchmark component reads it from a Job's log. */
export const K6_SUMMARY_LINE =
  'AMBIENT_LAB_SUMMARY {"mode":"x","date":"2026-11-22T10:01:02.345Z","requestedRate":1000,"achievedRate":1000,"requests":1,"errorRate":0,"droppedIterations":0,"latencyMs":null}\n';

/** Invoke results an EKS stack needs: caller identity, region, ECR login. */
export const EKS_CALLS: Record<string, Record<string, unknown>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": { accountId: "123456789012", arn: "", userId: "" },
  "aws:index/getRegion:getRegion": { region: "us-east-1", name: "us-east-1" },
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
    proxyEndpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
    userName: "AWS",
    password: "secret",
  },
};

/** A Prometheus instant-query response with one sample. */
export function promResponse(value: string): string {
  return `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"${value}"]}]}}`;
}

/** stdout of the commands the program runs, for whole-program tests. */
export function commandStdout(name: string): string {
  if (name.endsWith("-results")) return K6_SUMMARY_LINE;
  if (name.endsWith("-usage")) return `${promResponse("0.1")}\n${promResponse("50000000")}\n`;
  return "apiVersion: v1\nkind: Config\n";
}

/** Whether `from` waits for a resource matching `to`, directly or through what that waits for. */
export function waitsFor(registered: readonly Registered[], from: Registered, to: (r: Registered) => boolean): boolean {
  const byKey = new Map(registered.map((r) => [`${r.type}::${r.name}`, r]));
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length) {
    const r = queue.shift()!;
    for (const k of r.dependsOn) {
      if (seen.has(k)) continue;
      seen.add(k);
      const dep = byKey.get(k);
      if (!dep) continue;
      if (to(dep)) return true;
      queue.push(dep);
    }
  }
  return false;
}
