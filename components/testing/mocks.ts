// Pulumi mocks for component tests: records every registered resource, lets a test supply the outputs
// of remote components and commands (which produce nothing under mocks), and answers invokes. Call it
// before importing the code under test: ESM hoists static imports above the call.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
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
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...opts.outputs?.(args.type, args.name, args.inputs) } };
      },
      call: (args) => opts.calls?.[args.token] ?? args.inputs,
    },
    "ambient-lab",
    opts.stack ?? "test",
  );
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
export const K6_SUMMARY_LINE = 'AMBIENT_LAB_SUMMARY {"mode":"x","requestedRate":1000,"achievedRate":1000,"requests":1,"errorRate":0,"droppedIterations":0,"latencyMs":null}\n';

/** Invoke results an EKS stack needs: caller identity, region, ECR login. */
export const EKS_CALLS: Record<string, Record<string, unknown>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": { accountId: "123456789012", arn: "", userId: "" },
  "aws:index/getRegion:getRegion": { region: "us-east-1", name: "us-east-1" },
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": { proxyEndpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", userName: "AWS", password: "secret" },
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
