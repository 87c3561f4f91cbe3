/**
 * Catapult analysis on recorded histories (plain number arrays), after 003 Ch.4.
 *
 * Index conventions: `loss[t]` is the training loss at iterate w^t (t = 0..T); update t maps w^t to
 * w^{t+1} and uses learning rate `eta[t]` and batch critical learning rate `etaCrit[t]`.
 */

export type NumberSeries = ArrayLike<number>;

function checkSeries(fn: string, name: string, s: unknown): asserts s is NumberSeries {
  if (!s || typeof (s as NumberSeries).length !== 'number') throw new Error(`${fn}: ${name} = ${String(s)}; expected an array of numbers`);
}

function etaAt(eta: number | NumberSeries, t: number): number {
  return typeof eta === 'number' ? eta : eta[t];
}

function checkEta(fn: string, eta: number | NumberSeries, steps: number): void {
  if (typeof eta === 'number') {
    if (!Number.isFinite(eta) || eta < 0) throw new Error(`${fn}: eta = ${eta}; expected a learning rate ≥ 0 or an array of them`);
    return;
  }
  checkSeries(fn, 'eta', eta);
  if (eta.length < steps) throw new Error(`${fn}: eta has ${eta.length} entries; expected one per update (${steps})`);
}

/**
 * Per-update flags η_t − η_crit^t > ε (003 §4.4, T:L1172 uses ε = 10⁻⁸). NaN critical rates
 * (not measured at that step) give false.
 */
export function exceedsCritical(eta: number | NumberSeries, etaCrit: NumberSeries, epsilon = 1e-8): Uint8Array {
  checkSeries('exceedsCritical', 'etaCrit', etaCrit);
  checkEta('exceedsCritical', eta, etaCrit.length);
  return Uint8Array.from({ length: etaCrit.length }, (_, t) => (etaAt(eta, t) - etaCrit[t] > epsilon ? 1 : 0));
}

/** Updates t with L^{t+1} > L^t·(1 + relative). */
export function lossIncreases(loss: NumberSeries, relative = 0): Int32Array {
  checkSeries('lossIncreases', 'loss', loss);
  if (!(relative >= 0)) throw new Error(`lossIncreases: relative = ${relative}; expected ≥ 0`);
  const out: number[] = [];
  for (let t = 0; t + 1 < loss.length; t++) if (loss[t + 1] > loss[t] * (1 + relative)) out.push(t);
  return Int32Array.from(out);
}

export interface CatapultEpisode {
  /** Iterate where the rise starts (the loss before the spike). */
  start: number;
  /** Iterate of the highest loss. */
  peak: number;
  /** First iterate after the peak back within the threshold of the start loss (−1 if never). */
  end: number;
  /** loss[peak] / loss[start]. */
  rise: number;
  recovered: boolean;
  /** Some update in [start, peak) had η − η_crit > ε (undefined without eta/etaCrit). */
  triggered?: boolean;
  /** ‖K‖ after the episode < ‖K‖ before it (undefined without kernelNorm). */
  kernelDecreased?: boolean;
  /** Every criterion that could be checked holds. */
  isCatapult: boolean;
}

export interface DetectOptions {
  /** A spike must reach loss[start]·(1 + minRise); default 0.1 (10 %). */
  minRise?: number;
  eta?: number | NumberSeries;
  etaCrit?: NumberSeries;
  epsilon?: number;
  /** ‖K‖₂ per iterate (NaN where not measured). */
  kernelNorm?: NumberSeries;
}

function lastFiniteAtOrBefore(s: NumberSeries, t: number): number | undefined {
  for (let i = Math.min(t, s.length - 1); i >= 0; i--) if (Number.isFinite(s[i])) return s[i];
  return undefined;
}

function firstFiniteAtOrAfter(s: NumberSeries, t: number): number | undefined {
  for (let i = Math.max(t, 0); i < s.length; i++) if (Number.isFinite(s[i])) return s[i];
  return undefined;
}

/**
 * Loss spikes and catapults in a loss curve. 003 §4.2 (T:L1036): a catapult is "a drastic increase
 * followed by a fast decrease in the training loss which is triggered by a learning rate larger than
 * η_crit and accompanied by a decreasing ‖K‖₂". Operationally: from an iterate `start` where the loss
 * rises, the episode lasts until the loss is back to ≤ loss[start]·(1 + minRise); it is a spike if the
 * loss exceeded that level in between, and a catapult if it recovered, and, when the data are given,
 * η > η_crit during the rise and ‖K‖ dropped across the episode.
 */
export function detectCatapults(loss: NumberSeries, options: DetectOptions = {}): { episodes: CatapultEpisode[]; count: number; spikes: number } {
  const fn = 'detectCatapults';
  checkSeries(fn, 'loss', loss);
  const { minRise = 0.1, epsilon = 1e-8 } = options;
  if (!(minRise >= 0) || !Number.isFinite(minRise)) throw new Error(`${fn}: minRise = ${minRise}; expected a finite number ≥ 0`);
  if (options.etaCrit !== undefined) {
    checkSeries(fn, 'etaCrit', options.etaCrit);
    if (options.eta === undefined) throw new Error(`${fn}: etaCrit was given without eta`);
    checkEta(fn, options.eta, Math.min(options.etaCrit.length, loss.length - 1));
  }
  if (options.kernelNorm !== undefined) checkSeries(fn, 'kernelNorm', options.kernelNorm);
  const T = loss.length;
  const episodes: CatapultEpisode[] = [];
  let t = 0;
  while (t + 1 < T) {
    if (!(loss[t + 1] > loss[t])) {
      t++;
      continue;
    }
    const start = t;
    const level = loss[start] * (1 + minRise);
    let e = start + 1;
    let peak = start + 1;
    while (e < T && !(loss[e] <= level)) {
      if (!(loss[e] <= loss[peak])) peak = e;
      e++;
    }
    if (e === start + 1) {
      t = e;
      continue;
    }
    const recovered = e < T;
    const ep: CatapultEpisode = { start, peak, end: recovered ? e : -1, rise: loss[peak] / loss[start], recovered, isCatapult: false };
    if (options.etaCrit && options.eta !== undefined) {
      ep.triggered = false;
      for (let u = start; u < peak && u < options.etaCrit.length; u++) {
        if (etaAt(options.eta, u) - options.etaCrit[u] > epsilon) ep.triggered = true;
      }
    }
    if (options.kernelNorm && recovered) {
      const before = lastFiniteAtOrBefore(options.kernelNorm, start);
      const after = firstFiniteAtOrAfter(options.kernelNorm, e);
      if (before !== undefined && after !== undefined) ep.kernelDecreased = after < before;
    }
    ep.isCatapult = recovered && ep.triggered !== false && ep.kernelDecreased !== false;
    episodes.push(ep);
    if (!recovered) break;
    t = e;
  }
  return { episodes, count: episodes.filter((e) => e.isCatapult).length, spikes: episodes.filter((e) => e.recovered).length };
}

export interface SgdCatapultCountOptions {
  eta: number | NumberSeries;
  /** Per-update critical learning rate of the batch, η_crit(X_batch) ≈ b/λ_max(K(w^t; X_batch)). */
  etaCrit: NumberSeries;
  /** Default 10⁻⁸ (T:L1172). */
  epsilon?: number;
  /** Count updates t < until. */
  until?: number;
  /** Validation loss/error history; counting stops at the iterate with the best (first minimal) value. */
  validation?: NumberSeries;
  /** Iterate index of each validation value; default 0, 1, 2, …. */
  validationSteps?: NumberSeries;
}

/**
 * Number of catapults in SGD, 003 §4.4 (T:L1172): the number of updates with
 * η − η_crit(X_batch) > ε, ε = 10⁻⁸, "until the best validation loss/error", i.e. updates t < t_best
 * where w^{t_best} is the iterate with the lowest validation value.
 */
export function countSgdCatapults(options: SgdCatapultCountOptions): { count: number; steps: Int32Array; stop: number } {
  const fn = 'countSgdCatapults';
  const { eta, etaCrit, epsilon = 1e-8 } = options;
  checkSeries(fn, 'etaCrit', etaCrit);
  checkEta(fn, eta, etaCrit.length);
  let stop = etaCrit.length;
  if (options.until !== undefined) {
    if (!Number.isInteger(options.until) || options.until < 0) throw new Error(`${fn}: until = ${options.until}; expected an integer ≥ 0`);
    stop = Math.min(stop, options.until);
  } else if (options.validation !== undefined) {
    const v = options.validation;
    checkSeries(fn, 'validation', v);
    if (v.length === 0) throw new Error(`${fn}: validation is empty`);
    const at = options.validationSteps;
    if (at && at.length !== v.length) throw new Error(`${fn}: validationSteps has ${at.length} entries for ${v.length} validation values`);
    let best = -1;
    for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i]) && (best < 0 || v[i] < v[best])) best = i;
    if (best < 0) throw new Error(`${fn}: no finite validation value`);
    stop = Math.min(stop, at ? at[best] : best);
  }
  const steps: number[] = [];
  for (let t = 0; t < stop; t++) if (etaAt(eta, t) - etaCrit[t] > epsilon) steps.push(t);
  return { count: steps.length, steps: Int32Array.from(steps), stop };
}

export interface MatchRateOptions {
  /** Full training loss per iterate, L^0..L^T. */
  loss: NumberSeries;
  eta?: number | NumberSeries;
  etaCrit?: NumberSeries;
  /** Precomputed per-update flags η > η_crit^t (instead of eta/etaCrit). */
  exceeds?: NumberSeries;
  /** η − η_crit > epsilon counts as exceeding; default 0 (strict >, as written in Table 4.2). */
  epsilon?: number;
  /** Convergence: updates are considered until the first iterate with loss < convergedBelow (default 10⁻³). */
  convergedBelow?: number;
}

/**
 * Match rate of 003 Table 4.2 (T:L1120): among updates t with L^{t+1} > L^t, until convergence, the
 * fraction with η > η_crit^t(X_batch). NaN when the loss never increased.
 */
export function matchRate(options: MatchRateOptions): { rate: number; matches: number; increases: number; steps: number; convergedAt: number | null } {
  const fn = 'matchRate';
  const { loss, epsilon = 0, convergedBelow = 1e-3 } = options;
  checkSeries(fn, 'loss', loss);
  let flags: NumberSeries;
  if (options.exceeds) {
    checkSeries(fn, 'exceeds', options.exceeds);
    flags = options.exceeds;
  } else {
    if (options.etaCrit === undefined || options.eta === undefined) throw new Error(`${fn}: give either exceeds, or eta and etaCrit`);
    flags = exceedsCritical(options.eta, options.etaCrit, epsilon);
  }
  let end = loss.length - 1;
  let convergedAt: number | null = null;
  for (let t = 0; t < loss.length; t++) {
    if (loss[t] < convergedBelow) {
      convergedAt = t;
      end = t;
      break;
    }
  }
  if (flags.length < end) throw new Error(`${fn}: ${flags.length} per-update flags for ${end} updates before convergence`);
  let increases = 0;
  let matches = 0;
  for (let t = 0; t < end; t++) {
    if (loss[t + 1] > loss[t]) {
      increases++;
      if (flags[t]) matches++;
    }
  }
  return { rate: increases > 0 ? matches / increases : NaN, matches, increases, steps: end, convergedAt };
}
