import * as tf from '@tensorflow/tfjs-core';
import type { CriticalLr, CriticalSchedule } from '../analysis/critical.js';
import { checkNetwork, gradTrainable } from '../analysis/derivatives.js';
import { type Loss, checkLoss, lossByName, lossValue } from '../analysis/losses.js';
import { type Network, checkInput } from '../nets/network.js';
import { type OptimizerSpec, disposeState, optimizer as makeOptimizer } from './optimizers.js';
import { type Params, checkStructure, pv, readScalar } from '../core/params.js';
import { type RngState, permutation, rngFor, rngFromState } from '../core/random.js';
import { nextCheckpointPath } from '../core/checkpoint-scope.js';
import { freshCursor, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { writeErrorReason } from '../core/write-errors.js';
import { dirname } from 'node:path';
import { checkData } from '../core/checks.js';
import { type ScheduleSpec, schedule } from './schedules.js';

/** When a tracker records: every k steps, or at geometrically spaced steps (1, r, r^2, ... rounded). */
export type Cadence = number | { geometric: number };

/** What a tracker's `record` sees at a step: the iterate, the training set, the loss and the step size. */
export interface TrackContext {
  step: number;
  net: Network;
  params: Params;
  params0: Params;
  x: tf.Tensor;
  y: tf.Tensor;
  loss: Loss;
  lr: number;
  /** The mini-batch of the coming update (absent at the final record). */
  batch?: { x: tf.Tensor; y: tf.Tensor; indices: Int32Array };
  /**
   * net.apply(params, x) on the whole training set, computed once per step and shared by the trackers and the
   * stop check (owned by train: do not dispose). Absent in contexts built outside train().
   */
  output?: () => tf.Tensor;
  /** Records values for the previous step (a tracker that learns only now that the last iterate mattered). */
  recordPrevious?: (values: Record<string, number | number[]>) => void;
}

/** A quantity recorded along a `train` run: `record(ctx)` returns its values by key, every `every` steps and at the final iterate. */
export interface Tracker {
  name: string;
  every: Cadence;
  /** Runs at the very first step (initialisation) to set up state, e.g. K_0. */
  init?(ctx: TrackContext): void;
  record(ctx: TrackContext): Record<string, number | number[]>;
  dispose?(): void;
  /**
   * Checkpoints: a tracker that keeps state between records returns it as plain data (`snapshot`) and takes it
   * back (`restore`, after `init`); one that keeps none says `stateless`. A run with any other tracker is not
   * checkpointed (it could not resume exactly).
   */
  stateless?: boolean;
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

/**
 * Where and how often train() saves its state so that an interrupted run resumes (bit for bit) instead of
 * restarting: by default inside a result-store computation (a path per run from core/checkpoint-scope) every
 * `TANGENT_CHECKPOINT_SECONDS` (default 300) seconds; `false` turns it off.
 */
export interface CheckpointOptions {
  /** File path without extension; default: the next path of the current result-store computation. */
  path?: string;
  everySeconds?: number;
}

/** The arguments of `train` (see its doc comment). */
export interface TrainOptions {
  net: Network;
  params: Params;
  x: tf.Tensor;
  y: tf.Tensor;
  loss: Loss | string;
  optimizer?: OptimizerSpec | string;
  lr: ScheduleSpec;
  steps: number;
  /** Mini-batch size (default: full batch, i.e. GD). */
  batchSize?: number;
  /**
   * `shuffle` (default): without replacement, a fresh permutation every epoch (a last incomplete batch is
   * dropped); `replacement`: every index drawn iid uniformly (a batch may repeat an example).
   */
  sampling?: 'shuffle' | 'replacement';
  seed?: number;
  stop?: StopOptions;
  /** Record the indices of every mini-batch in `history.batchIndices` (value: the b indices of update `step`). */
  recordIndices?: boolean;
  track?: Tracker[];
  checkpoint?: CheckpointOptions | false;
  /** Progress lines: true = console.log, a function, or false. */
  progress?: boolean | ((line: string) => void);
  progressSeconds?: number;
  label?: string;
}

export interface StopOptions {
  /**
   * Stop ('converged') once the full training loss L(w^t) < lossBelow (003 Ch.4 stops at 1e-3). GD checks the
   * loss of every step; mini-batch runs evaluate the full training loss every `checkEvery` steps (recorded in
   * `history.fullLoss`), which neither draws random numbers nor touches the optimizer state.
   */
  lossBelow?: number;
  /**
   * First step at which `lossBelow` may stop the run (default 0); the loss after the last step decides
   * 'converged' either way. A schedule that raises η late (003 Fig 4.4) needs steps after its last raise.
   */
  from?: number;
  /** Steps between full-loss checks of a mini-batch run (default 1). */
  checkEvery?: number;
  /** Stop ('diverged') once a mini-batch loss is non-finite or above this. */
  divergeAbove?: number;
}

export type TrainStatus = 'converged' | 'diverged' | 'max-steps';

/** One recorded quantity: the steps and the value at each. */
export interface Series {
  step: number[];
  value: (number | number[])[];
}

/** What `train` returns: status, final parameters, history by key. */
export interface TrainResult {
  status: TrainStatus;
  /** Updates performed. */
  steps: number;
  /** Final parameters (owned by the caller). */
  params: Params;
  /**
   * Mini-batch loss before each update (`batchLoss`), the full-loss checks of `stop.lossBelow` (`fullLoss`),
   * the batch indices (`batchIndices`, with `recordIndices`), and every tracker's quantities, by name.
   */
  history: Record<string, Series>;
  critical?: CriticalLr;
  finalLoss: number;
  seconds: number;
}

export function isDue(every: Cadence, step: number): boolean {
  if (typeof every === 'number') return every > 0 && step % every === 0;
  const r = every.geometric;
  if (!(r > 1)) throw new Error(`cadence: geometric = ${r}; expected a ratio > 1`);
  if (step === 0) return true;
  const i = Math.round(Math.log(step) / Math.log(r));
  for (const j of [i - 1, i, i + 1]) if (j >= 0 && Math.floor(r ** j) === step) return true;
  return false;
}

function validate(o: TrainOptions, n: number): void {
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new Error(`train: steps = ${o.steps}; expected an integer >= 0`);
  if (o.batchSize !== undefined && (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > n)) {
    throw new Error(`train: batchSize = ${o.batchSize}; expected an integer in [1, ${n}] (the data has ${n} examples)`);
  }
  if (o.sampling && o.sampling !== 'shuffle' && o.sampling !== 'replacement') {
    throw new Error(`train: sampling = ${JSON.stringify(o.sampling)}; expected 'shuffle' or 'replacement'`);
  }
  const k = o.stop?.checkEvery;
  if (k !== undefined && (!Number.isInteger(k) || k < 1)) throw new Error(`train: stop.checkEvery = ${k}; expected an integer >= 1`);
  const lb = o.stop?.lossBelow;
  if (lb !== undefined && !(lb > 0)) throw new Error(`train: stop.lossBelow = ${lb}; expected a loss threshold > 0`);
  const from = o.stop?.from;
  if (from !== undefined && (!Number.isInteger(from) || from < 0)) throw new Error(`train: stop.from = ${from}; expected an integer step >= 0`);
  const da = o.stop?.divergeAbove;
  if (da !== undefined && (typeof da !== 'number' || Number.isNaN(da))) throw new Error(`train: stop.divergeAbove = ${String(da)}; expected a loss threshold (a number, Infinity for none)`);
  if (o.progress !== undefined && typeof o.progress !== 'boolean' && typeof o.progress !== 'function') throw new Error(`train: progress = ${JSON.stringify(o.progress)}; expected true, false or a function of a line`);
  if (o.label !== undefined && typeof o.label !== 'string') throw new Error(`train: label = ${JSON.stringify(o.label)}; expected a string`);
  if (o.recordIndices !== undefined && typeof o.recordIndices !== 'boolean') throw new Error(`train: recordIndices = ${JSON.stringify(o.recordIndices)}; expected true or false`);
  const ps = o.progressSeconds;
  if (ps !== undefined && !(typeof ps === 'number' && ps >= 0)) throw new Error(`train: progressSeconds = ${String(ps)}; expected a number of seconds >= 0`);
  if (o.y.shape[0] !== n) throw new Error(`train: y has ${o.y.shape[0]} rows; expected ${n}, the rows of x`);
  checkTrackers(o.track);
}

/** A cadence that records: every k ≥ 1 steps (an integer) or { geometric: r } with r > 1. */
export function isCadence(e: unknown): e is Cadence {
  return typeof e === 'number' ? Number.isSafeInteger(e) && e >= 1 : typeof e === 'object' && e !== null && typeof (e as { geometric?: unknown }).geometric === 'number' && Number.isFinite((e as { geometric: number }).geometric) && (e as { geometric: number }).geometric > 1;
}

/** Trackers with distinct names and a cadence that records (isCadence). */
function checkTrackers(track: Tracker[] | undefined): void {
  if (track === undefined) return;
  if (!Array.isArray(track)) throw new Error(`train: track = ${String(track)}; expected an array of trackers`);
  const seen = new Set<string>();
  track.forEach((tr, i) => {
    if (!tr || typeof tr.record !== 'function' || typeof tr.name !== 'string' || tr.name === '') {
      throw new Error(`train: track[${i}] = ${tr === null || typeof tr !== 'object' ? String(tr) : `a tracker named ${JSON.stringify(tr.name)}`}; expected a tracker with a non-empty name and a record function`);
    }
    const e = tr.every;
    if (!isCadence(e)) throw new Error(`train: track[${i}] ('${tr.name}') every = ${JSON.stringify(e) ?? String(e)}; expected a positive integer number of steps or { geometric: r } with r > 1`);
    // Two trackers of one name would interleave their records in one history series.
    if (seen.has(tr.name)) throw new Error(`train: track[${i}] name = '${tr.name}' is used by an earlier tracker; expected distinct names (each names its series in history)`);
    seen.add(tr.name);
  });
}

/** The schedule's rate at a step, refused where it is negative or not finite (a negative rate ascends the loss). */
function checkedRate(lrAt: (step: number) => number): (step: number) => number {
  return (step) => {
    const lr = lrAt(step);
    if (!(typeof lr === 'number' && Number.isFinite(lr) && lr >= 0)) throw new Error(`train: lr(${step}) = ${String(lr)}; expected a finite learning rate >= 0 from the schedule at step ${step}`);
    return lr;
  };
}

/**
 * Trains any network of the library (Taylor models included) with the given loss, optimizer and schedule,
 * recording trackers along the way. A diverged run (non-finite loss, or above `divergeAbove`) ends with
 * status 'diverged' and its history; it does not throw.
 *
 * @param o the run: `net` and `params`, the model and its starting parameters (not modified); `x`, `y` the
 *   training set; `loss`: `mse('mean')`, `crossEntropy()`, ... or a name; `optimizer` 'sgd' (default), 'adam', ...
 *   (PyTorch's update rules); `lr`: a number or schedule: `criticalSchedule(0.5, net, w, x, y, loss)`,
 *   `{ kind: 'steps', ... }`, `{ kind: 'cyclical', ... }` or any function of the step; `steps`: updates at most;
 *   `batchSize` (default full batch), `stop`, `track` (trackers), `progress`, `checkpoint`
 * @returns status, final params (caller owns them), history of the loss and every tracker
 * @example
 * const run = train({ net, params: w, x, y, loss: mse('mean'), lr: criticalSchedule(0.5, net, w, x, y, mse('mean')), steps: 500, progress: true });
 * console.log(run.status, run.finalLoss);
 */
export function train(o: TrainOptions): TrainResult {
  if (!o || typeof o !== 'object') throw new Error(`train: options = ${String(o)}; expected { net, params, x, y, loss, lr, steps, ... }`);
  const { net, x, y } = o;
  checkNetwork(net, 'train');
  checkStructure(o.params, net.specs, `${net.name} params`);
  checkInput(net, x);
  checkData('train', o.params, x, y);
  const n = x.shape[0];
  validate(o, n);
  const loss = lossByName(o.loss, 'train');
  checkLoss('train', loss, net.outputDim, y);
  const opt = makeOptimizer(o.optimizer ?? 'gd');
  const b = o.batchSize ?? n;
  const seed = o.seed ?? 0;
  let rng = rngFor(seed, 'batches');
  const log = o.progress === true ? (l: string) => console.log(l) : o.progress || null;
  const progressEvery = (o.progressSeconds ?? 5) * 1000;
  let t0 = Date.now();
  let lastPrint = t0;

  const critical = typeof o.lr === 'function' ? (o.lr as Partial<CriticalSchedule>).critical : undefined;
  const lrAt = checkedRate(schedule(o.lr));
  const params0 = o.params;
  let params = pv.clone(o.params);
  let state = opt.init(trainableOnly(net, params));
  const history: Record<string, Series> = {};
  const push = (name: string, step: number, value: number | number[]) => {
    (history[name] ??= { step: [], value: [] }).step.push(step);
    history[name].value.push(value);
  };
  const trackers = o.track ?? [];
  const recorded = new Set<string>();
  const runTrackers = (ctx: TrackContext, force: boolean) => {
    for (const tr of trackers) {
      if (!force && !isDue(tr.every, ctx.step)) continue;
      const key = `${tr.name}@${ctx.step}`;
      if (recorded.has(key)) continue;
      recorded.add(key);
      const late = (v: Record<string, number | number[]>) => {
        for (const [k, x] of Object.entries(v)) push(k, ctx.step - 1, x);
      };
      const values = tf.tidy(() => tr.record({ ...ctx, recordPrevious: late }) as never) as Record<string, number | number[]>;
      for (const [k, v] of Object.entries(values)) push(k, ctx.step, v);
    }
  };

  let status: TrainStatus = 'max-steps';
  let completed = false;
  let step = 0;
  let lastLoss = NaN;
  const cp = checkpointPlan(o, trackers);
  let lastSave = Date.now();
  let saved = false;
  let seriesCursor = freshCursor();
  const warn = typeof o.progress === 'function' ? o.progress : (l: string) => console.warn(l);
  const signature = cp ? JSON.stringify({
    steps: o.steps, n, b, seed, sampling: o.sampling ?? 'shuffle', optimizer: { name: opt.name, ...opt.config }, lr0: lrAt(0), stop: o.stop ?? null,
    recordIndices: !!o.recordIndices, label: o.label ?? null, trackers: trackers.map((t) => t.name), params: Object.entries(params).map(([k, t]) => [k, t.shape]),
  }) : '';

  let order = b < n ? permutation(rng, n) : null;
  let cursor = 0;
  const nextBatch = (): Int32Array => {
    if (b === n) return Int32Array.from({ length: n }, (_, i) => i);
    if (o.sampling === 'replacement') return Int32Array.from({ length: b }, () => rng.int(0, n));
    if (cursor + b > n) {
      order = permutation(rng, n);
      cursor = 0;
    }
    const idx = (order as Int32Array).slice(cursor, cursor + b);
    cursor += b;
    return idx;
  };

  const divergeAbove = o.stop?.divergeAbove ?? Infinity;
  // The training-set outputs of the current parameters, computed at most once per step (a 5000-point forward
  // pass was made up to three times a step: stop check, loss tracker, loss split).
  let shared: tf.Tensor | null = null;
  const output = () => (shared ??= tf.keep(tf.tidy(() => net.apply(params, x))));
  const release = () => {
    shared?.dispose();
    shared = null;
  };
  const save = (atStep: number, done: boolean, status?: TrainStatus, seconds?: number) => {
    const tensors: Params = {};
    for (const [k, t] of Object.entries(params)) tensors[`p:${k}`] = t;
    const optNumbers: Record<string, number> = {};
    const optTensors: Record<string, string[]> = {};
    if (!done) {
      for (const [k, v] of Object.entries(state)) {
        if (typeof v === 'number') optNumbers[k] = v;
        else {
          optTensors[k] = Object.keys(v);
          for (const [pk, t] of Object.entries(v)) tensors[`o:${k}:${pk}`] = t;
        }
      }
    }
    const meta = {
      done, step: atStep, lastLoss, elapsedMs: Date.now() - t0, rng: rng.state(), order: order ? Array.from(order) : null, cursor,
      optNumbers, optTensors, trackers: trackers.map((t) => (t.snapshot ? t.snapshot() : null)), status: status ?? null, seconds: seconds ?? null,
    };
    // A checkpoint is an optimisation: one that cannot be written (a full disk) is reported and the run goes on.
    try {
      seriesCursor = saveCheckpoint(cp!.path, { signature, meta, tensors, series: history }, seriesCursor);
      saved = true;
    } catch (e) {
      warn(`${o.label ? `${o.label}  ` : ''}checkpoint at step ${atStep} not saved in ${dirname(cp!.path)}: ${writeErrorReason(e)}; training goes on (an interruption resumes from the last checkpoint saved, if any)`);
    }
  };
  // A checkpoint of this run: resume from its step, or return its result if it finished.
  let resumed: Record<string, unknown> | undefined;
  if (cp) {
    const got = loadCheckpoint(cp.path);
    if (got.problem) warn(`${o.label ? `${o.label}  ` : ''}checkpoint ${cp.path}: ${got.problem}; starting from step 0 (the checkpoint is discarded)`);
    else if (got.checkpoint && got.checkpoint.signature !== signature) {
      log?.(`${o.label ? `${o.label}  ` : ''}checkpoint ${cp.path} is of another run (its settings differ); starting from step 0`);
      pv.dispose(got.checkpoint.tensors);
    } else if (got.checkpoint) {
      const m = got.checkpoint.meta;
      const t = got.checkpoint.tensors;
      const restored: Params = Object.fromEntries(Object.entries(t).filter(([k]) => k.startsWith('p:')).map(([k, v]) => [k.slice(2), v]));
      const problem = inconsistency(m, t, restored, { net, n, steps: o.steps, trackers: trackers.length });
      if (problem) {
        warn(`${o.label ? `${o.label}  ` : ''}checkpoint ${cp.path} is inconsistent (${problem}); starting from step 0 (the checkpoint is discarded)`);
        pv.dispose(t);
      } else if (m.done) {
        pv.dispose(params);
        disposeState(state);
        // Trackers that collect into their own state get it back as it was at the end of the run.
        (m.trackers as unknown[]).forEach((st, i) => st !== null && trackers[i].restore?.(st));
        trackers.forEach((tr) => tr.dispose?.());
        const r = { status: m.status as TrainStatus, steps: m.step as number, params: restored, history: got.checkpoint.series as Record<string, Series>, critical, finalLoss: m.lastLoss as number, seconds: m.seconds as number };
        if (log) log(`${o.label ? `${o.label}  ` : ''}${r.status} after ${r.steps} steps  loss ${r.finalLoss.toExponential(3)}  ${r.seconds.toFixed(1)}s (from its checkpoint)`);
        return r;
      } else {
        pv.dispose(params);
        params = restored;
        disposeState(state);
        state = { ...(m.optNumbers as Record<string, number>) };
        for (const [k, names] of Object.entries(m.optTensors as Record<string, string[]>)) state[k] = Object.fromEntries(names.map((pk) => [pk, t[`o:${k}:${pk}`]]));
        rng = rngFromState(m.rng as RngState);
        order = m.order ? Int32Array.from(m.order as number[]) : null;
        cursor = m.cursor as number;
        for (const [k, v] of Object.entries(got.checkpoint.series as Record<string, Series>)) history[k] = v;
        seriesCursor = got.checkpoint.cursor;
        lastLoss = m.lastLoss as number;
        step = m.step as number;
        t0 = Date.now() - (m.elapsedMs as number);
        resumed = m;
        log?.(`${o.label ? `${o.label}  ` : ''}resumed at step ${step}/${o.steps} from its checkpoint (${duration(m.elapsedMs as number)} of computing kept)`);
      }
    }
  }
  try {
    for (const tr of trackers) tr.init?.({ step: 0, net, params: params0, params0, x, y, loss, lr: lrAt(0) });
    if (resumed) (resumed.trackers as unknown[]).forEach((st, i) => st !== null && trackers[i].restore?.(st));
    const checkEvery = o.stop?.checkEvery ?? 1;
    const stopFrom = o.stop?.from ?? 0;
    for (; step < o.steps; step++) {
      const lr = lrAt(step);
      const full = b === n;
      release();
      if (!full && o.stop?.lossBelow !== undefined && step >= stopFrom && step % checkEvery === 0) {
        const fl = readScalar(() => lossValue(loss, output(), y));
        push('fullLoss', step, fl);
        if (fl < o.stop.lossBelow) {
          lastLoss = fl;
          status = 'converged';
          break;
        }
      }
      const idx = nextBatch();
      if (o.recordIndices) push('batchIndices', step, Array.from(idx));
      const xb = full ? x : tf.gather(x, idx);
      const yb = full ? y : tf.gather(y, idx);
      let value: number, grad: Params;
      try {
        runTrackers({ step, net, params, params0, x, y, loss, lr, batch: { x: xb, y: yb, indices: idx }, output }, false);
        ({ value, grad } = gradTrainable(net, params, (p) => lossValue(loss, net.apply(p, xb), yb)));
      } finally {
        if (!full) tf.dispose([xb, yb]);
      }
      lastLoss = value;
      push('batchLoss', step, value);
      if (!Number.isFinite(value) || value > divergeAbove) {
        pv.dispose(grad);
        status = 'diverged';
        break;
      }
      if (o.stop?.lossBelow !== undefined && full && step >= stopFrom && value < o.stop.lossBelow) {
        pv.dispose(grad);
        status = 'converged';
        break;
      }
      const next = tf.tidy(() => {
        const r = opt.step(trainableOnly(net, params), grad, state, lr);
        Object.values(r.params).forEach((t) => tf.keep(t));
        for (const v of Object.values(r.state)) if (typeof v !== 'number') Object.values(v).forEach((t) => tf.keep(t));
        return r;
      });
      pv.dispose(grad);
      disposeState(state);
      const fixed = Object.fromEntries(net.specs.filter((s) => !s.trainable).map((s) => [s.name, params[s.name]]));
      pv.dispose(trainableOnly(net, params));
      params = { ...fixed, ...next.params };
      state = next.state;
      const now = Date.now();
      if (cp && now - lastSave >= cp.everyMs && step + 1 < o.steps) {
        save(step + 1, false);
        lastSave = Date.now();
      }
      if (log && now - lastPrint >= progressEvery) {
        lastPrint = now;
        // Time to the step cap at the mean rate so far (a run that reaches its loss threshold ends sooner).
        const left = ((now - t0) / (step + 1)) * (o.steps - step - 1);
        log(`${o.label ? `${o.label}  ` : ''}step ${step + 1}/${o.steps}  loss ${value.toExponential(3)}  lr ${lr.toPrecision(3)}  ${((now - t0) / 1000).toFixed(1)}s${step + 1 < o.steps ? `  eta ≤ ${duration(left)}` : ''}`);
      }
    }
    if (status !== 'diverged') {
      // After the last update (or the converged check) `params` may be new: a fresh output.
      if (status === 'max-steps') release();
      runTrackers({ step, net, params, params0, x, y, loss, lr: lrAt(Math.max(step - 1, 0)), output }, true);
      if (status === 'max-steps' && o.stop?.lossBelow !== undefined) {
        const final = readScalar(() => lossValue(loss, output(), y));
        lastLoss = final;
        if (b < n) push('fullLoss', step, final);
        if (final < o.stop.lossBelow) status = 'converged';
      }
    }
    // A finished run that took a while is kept too, for a computation that trains several times and is interrupted later.
    if (cp && (saved || Date.now() - t0 >= cp.everyMs / 5)) save(step, true, status, (Date.now() - t0) / 1000);
    completed = true;
  } finally {
    release();
    disposeState(state);
    // A run that throws returns nothing: its working copy of the parameters goes too.
    if (!completed) pv.dispose(params);
    trackers.forEach((t) => t.dispose?.());
  }
  const seconds = (Date.now() - t0) / 1000;
  if (log) log(`${o.label ? `${o.label}  ` : ''}${status} after ${step} steps  loss ${lastLoss.toExponential(3)}  ${seconds.toFixed(1)}s`);
  return { status, steps: step, params, history, critical, finalLoss: lastLoss, seconds };
}


/** Why a checkpoint's state cannot be resumed by this run (a field missing or of the wrong kind), or undefined. */
function inconsistency(m: Record<string, unknown>, t: Params, restored: Params, run: { net: Network; n: number; steps: number; trackers: number }): string | undefined {
  const int = (v: unknown, lo: number, hi: number) => Number.isSafeInteger(v) && (v as number) >= lo && (v as number) <= hi;
  if (typeof m.done !== 'boolean') return `done = ${JSON.stringify(m.done)}; expected true or false`;
  if (!int(m.step, 0, run.steps)) return `step = ${JSON.stringify(m.step)}; expected an integer in [0, ${run.steps}]`;
  if (typeof m.lastLoss !== 'number') return `lastLoss = ${JSON.stringify(m.lastLoss)}; expected a number`;
  if (typeof m.elapsedMs !== 'number' || !(m.elapsedMs >= 0)) return `elapsedMs = ${JSON.stringify(m.elapsedMs)}; expected a number >= 0`;
  if (!Array.isArray(m.trackers) || m.trackers.length !== run.trackers) return `trackers has ${Array.isArray(m.trackers) ? m.trackers.length : 'no'} entries; expected ${run.trackers}`;
  try {
    checkStructure(restored, run.net.specs, 'its parameters');
  } catch (e) {
    return (e as Error).message;
  }
  if (m.done) {
    if (!['converged', 'diverged', 'max-steps'].includes(m.status as string)) return `status = ${JSON.stringify(m.status)}; expected a train status`;
    return typeof m.seconds === 'number' ? undefined : `seconds = ${JSON.stringify(m.seconds)}; expected a number`;
  }
  try {
    rngFromState(m.rng as RngState);
  } catch (e) {
    return `rng = ${JSON.stringify(m.rng)} (${(e as Error).message})`;
  }
  if (m.order !== null && !(Array.isArray(m.order) && m.order.length === run.n && m.order.every((i) => int(i, 0, run.n - 1)))) return `order is not null or a permutation of ${run.n} indices`;
  if (!int(m.cursor, 0, run.n)) return `cursor = ${JSON.stringify(m.cursor)}; expected an integer in [0, ${run.n}]`;
  const nums = m.optNumbers as Record<string, unknown>;
  if (!nums || typeof nums !== 'object' || !Object.values(nums).every((v) => typeof v === 'number')) return 'optNumbers is not a record of numbers';
  const named = m.optTensors as Record<string, unknown>;
  if (!named || typeof named !== 'object') return 'optTensors is not a record';
  for (const [k, names] of Object.entries(named)) {
    if (!Array.isArray(names) || !names.every((pk) => typeof pk === 'string' && t[`o:${k}:${pk}`] instanceof tf.Tensor)) return `optTensors.${k} names tensors the checkpoint does not hold`;
  }
  return undefined;
}

/** Where train() checkpoints, or undefined (off, outside a result-store computation, or a tracker that cannot resume). */
function checkpointPlan(o: TrainOptions, trackers: Tracker[]): { path: string; everyMs: number } | undefined {
  if (o.checkpoint === false) return undefined;
  // Taken on every call inside a computation, so that the i-th train() of a run always gets the i-th path.
  const path = o.checkpoint?.path ?? nextCheckpointPath('train');
  if (!path) return undefined;
  const every = o.checkpoint?.everySeconds ?? Number(process.env.TANGENT_CHECKPOINT_SECONDS?.trim() || 300);
  if (!(every > 0)) throw new Error(`train: checkpoint every ${every} s (TANGENT_CHECKPOINT_SECONDS or checkpoint.everySeconds); expected a positive number of seconds`);
  if (!trackers.every((t) => t.stateless || (t.snapshot && t.restore))) return undefined;
  return { path, everyMs: every * 1000 };
}

/** 42s, 7m05s, 2h10m. */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function trainableOnly(net: Network, p: Params): Params {
  return Object.fromEntries(net.specs.filter((s) => s.trainable).map((s) => [s.name, p[s.name]]));
}
