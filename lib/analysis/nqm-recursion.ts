/**
 * Exact dynamics of the single-example NQM of a two-layer ReLU network (003 §3.3.1, eq. 3.9–3.14),
 * GD on L = ½ (g − y)², in float64. With r = g − y and c = ‖x‖²/(md):
 *
 *   r(t+1) = (1 − ηλ(t) + c η² r(t) g(t)) r(t)                       (003 eq. 3.11)
 *   λ(t+1) = λ(t) − η c r(t)² (4 g(t)/r(t) − ηλ(t))                   (003 eq. 3.12)
 *
 * and in the scaled variables u = c η² r², w = c η² r y, v = ηλ (003 eq. 3.13–3.14):
 *
 *   u(t+1) = (1 − v + u + w)² u,   v(t+1) = v − u (4 − v) − 4 w.
 */

export interface SingleExampleNqmOptions {
  /** Initial tangent kernel λ(0) = ‖∇g(w0)‖² (E λ(0) = ‖x‖²/d, Prop B.9.1). */
  lambda0: number;
  /** Learning rate η (½(g − y)² loss: η_crit = 2/λ0, η_max = 4/λ0). */
  eta: number;
  /** Width m. */
  m: number;
  /** ‖x‖²/d; default 1. */
  xNormSqOverD?: number;
  /** Initial output g(0) = f(w0; x); default 0. */
  g0?: number;
  /** Target y; default 1. */
  y?: number;
  steps: number;
  /** A run whose loss exceeds this (or is not finite) is 'diverged'; default 1e30. */
  divergeAbove?: number;
}

export interface SingleExampleNqmRun {
  /** ½ (g − y)² at t = 0..T (T ≤ steps, shorter when diverged). */
  loss: number[];
  /** λ(t) at t = 0..T. */
  lambda: number[];
  g: number[];
  status: 'converged' | 'diverged' | 'max-steps';
  /** max_t loss(t). */
  peakLoss: number;
  /** Iterate of the peak. */
  peakStep: number;
  /** λ at the last iterate. */
  lambdaFinal: number;
}

function checkFinite(fn: string, name: string, v: unknown, positive = false): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive && !(v > 0))) {
    throw new Error(`${fn}: ${name} = ${String(v)}; expected a ${positive ? 'positive' : 'finite'} number`);
  }
}

/**
 * Iterates eq. 3.11–3.12. Example: the catapult at ηλ0 = 3, width 10⁴:
 * `singleExampleNqm({ lambda0: 1, eta: 3, m: 1e4, steps: 200 })` (loss rises to ~m/log m, then λ < 2/η).
 * `converged` means loss < 1e-12 · max(1, loss(0)) at the end.
 */
export function singleExampleNqm(o: SingleExampleNqmOptions): SingleExampleNqmRun {
  const fn = 'singleExampleNqm';
  const { lambda0, eta, m, xNormSqOverD = 1, g0 = 0, y = 1, steps, divergeAbove = 1e30 } = o;
  checkFinite(fn, 'lambda0', lambda0, true);
  checkFinite(fn, 'eta', eta, true);
  checkFinite(fn, 'm', m, true);
  checkFinite(fn, 'xNormSqOverD', xNormSqOverD, true);
  checkFinite(fn, 'g0', g0);
  checkFinite(fn, 'y', y);
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`${fn}: steps = ${steps}; expected an integer ≥ 0`);
  const c = xNormSqOverD / m;
  let g = g0;
  let lambda = lambda0;
  const loss = [0.5 * (g - y) ** 2];
  const lambdas = [lambda];
  const gs = [g];
  let status: SingleExampleNqmRun['status'] = 'max-steps';
  for (let t = 0; t < steps; t++) {
    const r = g - y;
    const rNext = (1 - eta * lambda + c * eta * eta * r * g) * r; // eq. 3.11
    lambda = lambda - eta * c * (4 * g * r - eta * lambda * r * r); // eq. 3.12 (times r/r, defined at r = 0)
    g = y + rNext;
    const l = 0.5 * rNext * rNext;
    loss.push(l);
    lambdas.push(lambda);
    gs.push(g);
    if (!Number.isFinite(l) || l > divergeAbove || !Number.isFinite(lambda)) {
      status = 'diverged';
      break;
    }
  }
  if (status !== 'diverged' && loss[loss.length - 1] < 1e-12 * Math.max(1, loss[0])) status = 'converged';
  let peakStep = 0;
  for (let t = 1; t < loss.length; t++) if (loss[t] > loss[peakStep]) peakStep = t;
  return { loss, lambda: lambdas, g: gs, status, peakLoss: loss[peakStep], peakStep, lambdaFinal: lambdas[lambdas.length - 1] };
}

/** One step of the scaled recursion (003 eq. 3.13–3.14). */
export function scaledNqmStep(s: { u: number; v: number; w: number }): { u: number; v: number; w: number } {
  const { u, v, w } = s;
  const factor = 1 - v + u + w;
  // w = c η² r y scales with r like u/r: w(t+1) = w (1 − v + u + w).
  return { u: factor * factor * u, v: v - u * (4 - v) - 4 * w, w: w * factor };
}

export type NqmRegime = 'monotone' | 'catapult' | 'diverged' | 'unconverged';

/**
 * The regime of a run (003 Fig 3.1(b), §3.3.1): `diverged` (loss not finite or above the cap), `monotone`
 * (converged with the loss never increasing), `catapult` (converged after the loss increased at some step),
 * `unconverged` otherwise.
 */
export function nqmRegime(run: Pick<SingleExampleNqmRun, 'loss' | 'status'>): NqmRegime {
  if (run.status === 'diverged') return 'diverged';
  if (run.status !== 'converged') return 'unconverged';
  return lossIncreased(run.loss) ? 'catapult' : 'monotone';
}

/** Whether the loss increased at some step (by more than rounding). */
export function lossIncreased(loss: ArrayLike<number>): boolean {
  for (let t = 0; t + 1 < loss.length; t++) if (loss[t + 1] > loss[t] * (1 + 1e-12)) return true;
  return false;
}

export interface PhaseDiagram {
  /** ηλ0 grid. */
  etaLambda: number[];
  regime: NqmRegime[];
  peakLoss: number[];
  /** η λ_final per grid point (NaN when diverged). */
  etaLambdaFinal: number[];
  /** Bisected boundaries: the loss first increases at some step / the run first diverges (NaN if not bracketed by the grid). */
  boundaries: { catapult: number; divergence: number };
}

/**
 * Phase diagram of the single-example NQM over ηλ0 (003 Fig 3.1(b): monotone for ηλ0 < 2, catapult in
 * (2, 4), divergence above 4), computed by iterating eq. 3.11–3.12 at width m from λ0 = `lambda0`, and the
 * regime boundaries bisected to `tol`. Example: `nqmPhaseDiagram({ m: 1e4, etaLambda: [0.5, 1, …, 5] })`.
 */
export function nqmPhaseDiagram(o: { m: number; etaLambda: number[]; lambda0?: number; g0?: number; y?: number; xNormSqOverD?: number; steps?: number; tol?: number }): PhaseDiagram {
  const { m, etaLambda, lambda0 = 1, g0 = 0, y = 1, xNormSqOverD = 1, steps = 10_000, tol = 1e-4 } = o;
  if (!Array.isArray(etaLambda) || etaLambda.length < 2) throw new Error(`nqmPhaseDiagram: etaLambda = ${JSON.stringify(etaLambda)}; expected at least two values of ηλ0`);
  const runAt = (el: number) => singleExampleNqm({ lambda0, eta: el / lambda0, m, g0, y, xNormSqOverD, steps });
  const runs = etaLambda.map(runAt);
  const regime = runs.map(nqmRegime);
  const bisect = (is: (r: SingleExampleNqmRun) => boolean): number => {
    // First grid interval where `is` turns from false to true, refined by bisection.
    for (let i = 0; i + 1 < etaLambda.length; i++) {
      if (!is(runs[i]) && is(runs[i + 1])) {
        let [lo, hi] = [etaLambda[i], etaLambda[i + 1]];
        while (hi - lo > tol) {
          const mid = (lo + hi) / 2;
          if (is(runAt(mid))) hi = mid;
          else lo = mid;
        }
        return (lo + hi) / 2;
      }
    }
    return NaN;
  };
  return {
    etaLambda,
    regime,
    peakLoss: runs.map((r) => r.peakLoss),
    etaLambdaFinal: runs.map((r, i) => (r.status === 'diverged' ? NaN : (etaLambda[i] / lambda0) * r.lambdaFinal)),
    // The catapult starts where the loss first increases at some step (whether or not the run has converged).
    boundaries: { catapult: bisect((r) => lossIncreased(r.loss)), divergence: bisect((r) => r.status === 'diverged') },
  };
}
