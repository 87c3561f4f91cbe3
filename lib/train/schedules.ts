/** Learning-rate schedules: functions of the step (0-based). */
export type Schedule = (step: number) => number;

export type ScheduleSpec =
  | number
  | { kind: 'constant'; lr: number }
  /** "increase the LR to [a, b] at iteration [t1, t2]" (003 Ch.4): lr before t1, values[i] from at[i] on. */
  | { kind: 'steps'; lr: number; at: number[]; values: number[] }
  /** PyTorch CyclicLR 'triangular': from base to max and back over 2*stepSize steps. */
  | { kind: 'cyclical'; base: number; max: number; stepSize: number }
  /** A multiple of the critical learning rate computed at initialisation (resolved by train()). */
  | { kind: 'critical'; multiple: number };

function checkLr(lr: number, what: string): void {
  if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`${what}=${lr} is invalid; expected a finite learning rate >= 0`);
}

/** Builds a schedule; `critical` is the critical learning rate, needed for { kind: 'critical' }. */
export function schedule(spec: ScheduleSpec, critical?: number): Schedule {
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
      if (spec.at.length !== spec.values.length) throw new Error(`steps schedule: ${spec.at.length} change points but ${spec.values.length} values`);
      spec.values.forEach((v, i) => checkLr(v, `values[${i}]`));
      if (spec.at.some((t, i) => !Number.isInteger(t) || t < 0 || (i > 0 && t <= spec.at[i - 1]))) {
        throw new Error(`steps schedule: at=${JSON.stringify(spec.at)} must be increasing integers >= 0`);
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
      if (!(Number.isInteger(spec.stepSize) && spec.stepSize > 0)) throw new Error(`cyclical schedule: stepSize=${spec.stepSize}; expected a positive integer`);
      return (step) => {
        const cycle = Math.floor(1 + step / (2 * spec.stepSize));
        const x = Math.abs(step / spec.stepSize - 2 * cycle + 1);
        return spec.base + (spec.max - spec.base) * Math.max(0, 1 - x);
      };
    }
    case 'critical': {
      if (critical === undefined) throw new Error('a { kind: "critical" } schedule needs the critical learning rate: train() computes it');
      if (!(spec.multiple > 0)) throw new Error(`critical multiple=${spec.multiple} is invalid; expected > 0`);
      const lr = spec.multiple * critical;
      return () => lr;
    }
    default:
      throw new Error(`unknown schedule ${JSON.stringify(spec)}; expected a number or { kind: 'constant' | 'steps' | 'cyclical' | 'critical', ... }`);
  }
}
