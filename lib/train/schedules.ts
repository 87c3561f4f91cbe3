/** Learning-rate schedules: functions of the step (0-based). */
export type Schedule = (step: number) => number;

export type ScheduleSpec =
  | number
  | { kind: 'constant'; lr: number }
  /** "increase the LR to [a, b] at iteration [t1, t2]" (003 Ch.4): lr before t1, values[i] from at[i] on. */
  | { kind: 'steps'; lr: number; at: number[]; values: number[] }
  /** PyTorch CyclicLR 'triangular': from base to max and back over 2*stepSize steps. */
  | { kind: 'cyclical'; base: number; max: number; stepSize: number }
  /** Any function of the step, e.g. `criticalSchedule(...)` from analysis/critical. */
  | Schedule;

function checkLr(lr: number, what: string): void {
  if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`schedule: ${what} = ${lr}; expected a finite learning rate >= 0`);
}

/** Builds a schedule from its spec (a function is used as it is). */
export function schedule(spec: ScheduleSpec): Schedule {
  if (typeof spec === 'function') return spec;
  if (typeof spec === 'number') {
    checkLr(spec, 'learning rate');
    return () => spec;
  }
  switch (spec?.kind) {
    case 'constant':
      checkLr(spec.lr, 'lr');
      return () => spec.lr;
    case 'steps': {
      checkLr(spec.lr, 'lr');
      if (!Array.isArray(spec.at) || !Array.isArray(spec.values)) throw new Error(`schedule: steps.at = ${JSON.stringify(spec.at)}, steps.values = ${JSON.stringify(spec.values)}; expected two arrays, the change points and the rates from them on`);
      if (spec.at.length !== spec.values.length) throw new Error(`schedule: steps.values has ${spec.values.length} entries; expected ${spec.at.length}, one per change point in at`);
      spec.values.forEach((v, i) => checkLr(v, `values[${i}]`));
      if (spec.at.some((t, i) => !Number.isInteger(t) || t < 0 || (i > 0 && t <= spec.at[i - 1]))) {
        throw new Error(`schedule: steps.at = ${JSON.stringify(spec.at)}; expected increasing integers >= 0`);
      }
      return (step) => {
        let lr = spec.lr;
        spec.at.forEach((t, i) => {
          if (step >= t) lr = spec.values[i];
        });
        return lr;
      };
    }
    case 'cyclical': {
      checkLr(spec.base, 'base');
      checkLr(spec.max, 'max');
      if (!(Number.isInteger(spec.stepSize) && spec.stepSize > 0)) throw new Error(`schedule: cyclical.stepSize = ${spec.stepSize}; expected a positive integer`);
      return (step) => {
        const cycle = Math.floor(1 + step / (2 * spec.stepSize));
        const x = Math.abs(step / spec.stepSize - 2 * cycle + 1);
        return spec.base + (spec.max - spec.base) * Math.max(0, 1 - x);
      };
    }
    default:
      throw new Error(`schedule: spec = ${JSON.stringify(spec)}; expected a number, a function of the step or { kind: 'constant' | 'steps' | 'cyclical', ... }`);
  }
}
