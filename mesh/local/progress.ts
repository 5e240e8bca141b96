// Progress on long work (`ambientctl local up`, the demo, benchmarks): on a terminal, a spinner per step
// (ora) that shows the step's elapsed time and, when the number of steps is known, the whole run's and
// an estimate of what is left; anywhere else (CI logs, pipes, CI=true), one plain line per step with the
// time since the start, so logs stay readable.
import ora, { type Ora } from "ora";

export interface Progress {
  /** Ends the current step (as done) and starts `text`. */
  step(text: string): void;
  /** A line of its own, between steps (a result, a warning). */
  note(text: string): void;
  /** Ends the current step as done, then prints `text`. */
  done(text: string): void;
  /** Ends the current step as failed with `text`. */
  fail(text: string): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Steps the run is expected to take, for the estimate of what is left. */
  expectedSteps?: number;
  /** Override the terminal check (tests). */
  interactive?: boolean;
  /** Milliseconds since the start; injected by tests. */
  now?: () => number;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** "[  12.3s] text": the plain form of a progress line. */
export function plainLine(elapsedMs: number, text: string): string {
  return `[${(elapsedMs / 1000).toFixed(1).padStart(6)}s] ${text}`;
}

/**
 * What is left: the average finished step (`finishedMs` is when the last one finished) times the steps
 * not finished, less what the current one has already taken. Undefined until a step has finished.
 */
export function estimateLeftMs(finishedMs: number, finishedSteps: number, expectedSteps: number | undefined, currentMs = 0): number | undefined {
  if (!expectedSteps || finishedSteps === 0 || finishedSteps >= expectedSteps) return undefined;
  return Math.max(0, (finishedMs / finishedSteps) * (expectedSteps - finishedSteps) - currentMs);
}

export function createProgress(o: ProgressOptions = {}): Progress {
  const stream = o.stream ?? process.stderr;
  const start = performance.now();
  const now = o.now ?? (() => performance.now() - start);
  // A terminal with no width (a pty nobody sized) cannot redraw a line in place: plain lines there.
  const interactive = o.interactive ?? (stream.isTTY === true && (stream.columns ?? 0) >= 20 && !process.env.CI);
  if (!interactive) {
    const line = (text: string) => stream.write(`${plainLine(now(), text)}\n`);
    return { step: line, note: line, done: line, fail: line };
  }
  let spinner: Ora | undefined;
  let text = "";
  let stepStart = 0;
  let finished = 0;
  let timer: NodeJS.Timeout | undefined;
  const label = () => {
    const t = now();
    const left = estimateLeftMs(stepStart, finished, o.expectedSteps, t - stepStart);
    const of = o.expectedSteps ? ` · step ${Math.min(finished + 1, o.expectedSteps)}/${o.expectedSteps}` : "";
    return `${text} (${secs(t - stepStart)}${of} · ${secs(t)}${left !== undefined ? ` · ~${secs(left)} left` : ""})`;
  };
  const end = (ok: boolean, final?: string) => {
    if (!spinner) return;
    clearInterval(timer);
    const took = `${text} (${secs(now() - stepStart)})`;
    if (ok) spinner.succeed(took);
    else spinner.fail(final ?? took);
    spinner = undefined;
    finished++;
  };
  return {
    step(t) {
      end(true);
      text = t;
      stepStart = now();
      spinner = ora({ text: label(), stream }).start();
      timer = setInterval(() => spinner && (spinner.text = label()), 200);
      timer.unref();
    },
    note(t) {
      if (spinner) spinner.clear();
      stream.write(`${t}\n`);
      if (spinner) spinner.render();
    },
    done(t) {
      end(true);
      stream.write(`${t} (${secs(now())})\n`);
    },
    fail(t) {
      if (spinner) end(false, t);
      else stream.write(`${t}\n`);
    },
  };
}
