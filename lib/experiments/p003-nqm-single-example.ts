import * as tf from '@tensorflow/tfjs-core';
import { fcn } from '../nets/fcn.js';
import { kernelQuadraticForm } from '../train/kernel-trackers.js';
import { mse } from '../analysis/losses.js';
import { type NqmRegime, type PhaseDiagram, nqmPhaseDiagram, nqmRegime, singleExampleNqm } from '../analysis/nqm-recursion.js';
import { registerTasks } from '../run/tasks.js';
import { pv } from '../core/params.js';
import { normals64, rngFor } from '../core/random.js';
import { nqm } from '../nets/taylor-models.js';
import { train } from '../train/train.js';

/** 003 §3.3.1 (Fig 3.1, Thm 3.3.1, 3.3.4): the single-example two-layer NQM, ½(g − y)² loss, λ0 = 1 (E λ(0) = ‖x‖²/d = 1). */

export interface NqmTrajectory {
  etaLambda: number;
  m: number;
  loss: number[];
  lambda: number[];
  regime: NqmRegime;
  peakLoss: number;
  peakStep: number;
  lambdaFinal: number;
  status: string;
}

/** One run of the exact recursion (003 eq. 3.11–3.12) at ηλ0 = `etaLambda`, width m, from g(0) = g0, target y. */
export function nqmTrajectory(o: { m: number; etaLambda: number; steps: number; g0?: number; y?: number; keep?: number }): NqmTrajectory {
  const { m, etaLambda, steps, g0 = 0, y = 1, keep = steps + 1 } = o;
  const r = singleExampleNqm({ lambda0: 1, eta: etaLambda, m, g0, y, steps });
  return {
    etaLambda, m,
    loss: r.loss.slice(0, keep), lambda: r.lambda.slice(0, keep),
    regime: nqmRegime(r), peakLoss: r.peakLoss, peakStep: r.peakStep, lambdaFinal: r.lambdaFinal, status: r.status,
  };
}

/**
 * The recursion against GD on the library's NQM (`nqm(fcn)`, float32) of a two-layer ReLU network of width m
 * on one example x ~ N(0, I_d) (target 1), at ηλ0 = `etaLambda` with λ0 the NQM's own kernel: both
 * trajectories and the largest relative deviation of λ(t) over the run.
 */
export function nqmRecursionVsNetwork(o: { m: number; d: number; etaLambda: number; steps: number; seed: number }) {
  const { m, d, etaLambda, steps, seed } = o;
  const base = fcn({ widths: [d, m, 1], activation: 'relu' });
  const w0 = base.init(seed);
  const q = nqm(base, w0);
  const xs = normals64(rngFor(seed, 'nqm-single-x'), d);
  const x = tf.tensor2d(Float32Array.from(xs), [1, d]);
  const y = tf.tensor2d([[1]]);
  const g0 = q.apply(w0, x).dataSync()[0];
  const lambda0 = kernelQuadraticForm(q, w0, x, [1]);
  const eta = etaLambda / lambda0;
  const net = { loss: [] as number[], lambda: [] as number[] };
  const r = train({
    net: q, params: w0, x, y, loss: mse('halfSum'), lr: eta, steps,
    track: [{ name: 'single', every: 1, record: (c) => {
      net.loss.push(0.5 * (c.net.apply(c.params, c.x).dataSync()[0] - 1) ** 2);
      net.lambda.push(kernelQuadraticForm(c.net, c.params, c.x, [1]));
      return {};
    } }],
  });
  const rec = singleExampleNqm({ lambda0, eta, m, xNormSqOverD: xs.reduce((s, v) => s + v * v, 0) / d, g0, y: 1, steps });
  const n = Math.min(net.lambda.length, rec.lambda.length);
  let maxRel = 0;
  for (let t = 0; t < n; t++) maxRel = Math.max(maxRel, Math.abs(net.lambda[t] - rec.lambda[t]) / Math.abs(rec.lambda[t]));
  pv.dispose(r.params);
  pv.dispose(w0);
  q.dispose?.();
  tf.dispose([x, y]);
  return { lambda0, eta, network: net, recursion: { loss: rec.loss.slice(0, n), lambda: rec.lambda.slice(0, n) }, maxRelLambdaError: maxRel };
}

/** The phase diagram of `nqmPhaseDiagram` at width m over the ηλ0 grid (λ0 = 1, g(0) = 0, y = 1 unless given). */
export function nqmPhaseRun(o: { m: number; etaLambda: number[]; steps?: number; g0?: number; y?: number }): PhaseDiagram {
  return nqmPhaseDiagram(o);
}

registerTasks(import.meta.url, { nqmTrajectory, nqmRecursionVsNetwork, nqmPhaseRun });
declare module '../run/tasks.js' {
  interface TaskRegistry { nqmTrajectory: typeof nqmTrajectory; nqmRecursionVsNetwork: typeof nqmRecursionVsNetwork; nqmPhaseRun: typeof nqmPhaseRun }
}
