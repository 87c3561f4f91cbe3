import type { Params } from '../core/params.js';
import type { Schedule } from '../train/schedules.js';
import type { Tracker } from '../train/train.js';

/**
 * The learning-rate rules of 003 §4.3–4.4 for multiple catapults in GD, which depend on the current critical rate
 * η_crit(t) = n/λ_max(K(w_t)) and so on the run itself:
 * - **raise** (T:L1075): "after each catapult, one can reset the algorithmic learning rate η to be greater than the
 *   current η_crit to trigger another catapult": at each step of `raise.at`, η ← raise.factor · η_crit(t);
 * - **decay** (T:L3461): "we decay the learning rate if necessary after the catapult to avoid extra catapults until the
 *   end of training": a catapult ends when η_crit(t) has grown back above η (T:L1073: "when the loss starts to decrease
 *   during a catapult, η_crit surpasses the current learning rate"); from then on, checked every `decay.every` steps,
 *   η > η_crit(t) (the kernel has sharpened again) would start an extra catapult, so η ← decay.factor · η_crit(t).
 *   No decay before the first raise, nor between a raise and the end of its catapult.
 * Fixed raises (`fixed`: the thesis' printed schedule, in absolute rates) may replace the adaptive ones.
 *
 * η_crit(t) is measured on the iterate the tracker sees at step s, w_s, and the new rate applies from update s + 1:
 * a raise "at step a" is measured on w_{a−1}, the iterate just before it (train() fixes a step's rate before its trackers
 * run). One GD step below the critical rate moves ‖K‖₂ by a fraction of a percent.
 */
export interface AdaptiveLrSpec {
  /** Learning rate of the first update (absolute). */
  start: number;
  /** Adaptive raises: at each step of `at`, η ← factor · η_crit(t) (factor > 1). */
  raise?: { at: number[]; factor: number };
  /** Fixed raises: η ← values[i] from step at[i] on (absolute rates). */
  fixed?: { at: number[]; values: number[] };
  /** Decay after a catapult, checked every `every` steps: η ← factor · η_crit(t) when η > η_crit(t) (factor < 1). */
  decay?: { factor: number; every: number };
}

/** A change of the learning rate: from update `step` on, η = `lr`; `critical` is η_crit(t) measured for it. */
export interface LrEvent {
  step: number;
  kind: 'raise' | 'decay';
  lr: number;
  critical: number;
}

function check(spec: AdaptiveLrSpec): void {
  const fn = 'adaptiveLr';
  if (!(Number.isFinite(spec.start) && spec.start > 0)) throw new Error(`${fn}: start = ${spec.start}; expected a learning rate > 0`);
  const steps = (name: string, at: number[]) => {
    if (!Array.isArray(at) || at.some((t, i) => !Number.isInteger(t) || t < 1 || (i > 0 && t <= at[i - 1]))) throw new Error(`${fn}: ${name} = ${JSON.stringify(at)}; expected increasing integers >= 1`);
  };
  if (spec.raise && spec.fixed) throw new Error(`${fn}: both raise and fixed were given; expected one of them`);
  if (spec.raise) {
    steps('raise.at', spec.raise.at);
    if (!(Number.isFinite(spec.raise.factor) && spec.raise.factor > 1)) throw new Error(`${fn}: raise.factor = ${spec.raise.factor}; expected a number > 1 (above the current η_crit)`);
  }
  if (spec.fixed) {
    steps('fixed.at', spec.fixed.at);
    if (spec.fixed.values.length !== spec.fixed.at.length || spec.fixed.values.some((v) => !(Number.isFinite(v) && v > 0))) throw new Error(`${fn}: fixed.values = ${JSON.stringify(spec.fixed.values)}; expected ${spec.fixed.at.length} learning rates > 0`);
  }
  if (spec.decay) {
    if (!(Number.isFinite(spec.decay.factor) && spec.decay.factor > 0 && spec.decay.factor < 1)) throw new Error(`${fn}: decay.factor = ${spec.decay.factor}; expected a number in (0, 1) (below the current η_crit)`);
    if (!(Number.isInteger(spec.decay.every) && spec.decay.every >= 1)) throw new Error(`${fn}: decay.every = ${spec.decay.every}; expected an integer >= 1`);
  }
}

/**
 * The schedule and the tracker that drives it (pass both to train(); the tracker must run every step), and the
 * events, filled as the run goes. `critical(params)` is η_crit = n/λ_max(K(params)) on the training set.
 *
 * @example
 * const a = adaptiveLr({ start: 1.67 * eta0, raise: { at: [15, 60], factor: 1.67 } }, (p) => n / ntkTop(net, p, x));
 * train({ ..., lr: a.schedule, track: [a.tracker, ...] }); // a.events: [{ step: 15, kind: 'raise', lr, critical }, …]
 */
export function adaptiveLr(spec: AdaptiveLrSpec, critical: (params: Params) => number): { schedule: Schedule; tracker: Tracker; events: LrEvent[] } {
  check(spec);
  const events: LrEvent[] = [];
  const raiseAt = new Set(spec.raise?.at ?? []);
  const fixedAt = new Map((spec.fixed?.at ?? []).map((t, i) => [t, spec.fixed!.values[i]]));
  // 'before': no raise yet; 'catapult': since a raise, until η_crit(t) > η; 'stable': after it (decay may apply).
  let phase: 'before' | 'catapult' | 'stable' = 'before';
  const current = (step: number) => {
    let lr = spec.start;
    for (const e of events) if (e.step <= step) lr = e.lr;
    return lr;
  };
  const schedule: Schedule = (step) => current(step);
  const tracker: Tracker = {
    name: 'adaptiveLr',
    every: 1,
    record(ctx): Record<string, number> {
      if (!ctx.batch) return {};
      const next = ctx.step + 1;
      if (raiseAt.has(next) || fixedAt.has(next)) {
        const c = critical(ctx.params);
        const lr = fixedAt.get(next) ?? spec.raise!.factor * c;
        events.push({ step: next, kind: 'raise', lr, critical: c });
        phase = 'catapult';
        return { etaCritAtChange: c };
      }
      if (!spec.decay || phase === 'before' || ctx.step % spec.decay.every !== 0) return {};
      const c = critical(ctx.params);
      const lr = current(ctx.step);
      if (phase === 'catapult') {
        if (c > lr) phase = 'stable';
        return { etaCritCheck: c };
      }
      if (lr > c) {
        events.push({ step: next, kind: 'decay', lr: spec.decay.factor * c, critical: c });
        return { etaCritCheck: c, etaCritAtChange: c };
      }
      return { etaCritCheck: c };
    },
    snapshot: () => ({ events: events.map((e) => ({ ...e })), phase }),
    restore(state) {
      const st = state as { events: LrEvent[]; phase: typeof phase };
      events.splice(0, events.length, ...st.events);
      phase = st.phase;
    },
  };
  return { schedule, tracker, events };
}
