import * as tf from '@tensorflow/tfjs-core';

/**
 * A jet is the truncated Taylor polynomial t -> sum_j c[j] t^j of a tensor-valued function of one
 * scalar t (JAX's `jet`, 000 Def 4-5). `null` stands for an exactly zero coefficient, so that inputs and
 * parameters (which are constant or affine in t) cost nothing at the orders where they vanish.
 * Every operation is built from differentiable tfjs ops, so reverse mode runs through a jet
 * computation: that is how Hessian-vector products are obtained without nested tf.grad.
 */
export type Coef = tf.Tensor | null;
export type Jet = Coef[];

export function order(a: Jet): number {
  return a.length - 1;
}

export function constantJet(x: tf.Tensor, k: number): Jet {
  checkOrder(k);
  return [x, ...new Array<Coef>(k).fill(null)];
}

/** x0 + t dx, truncated at order k. */
export function lineJet(x0: tf.Tensor, dx: tf.Tensor | null, k: number): Jet {
  checkOrder(k);
  const out = constantJet(x0, k);
  if (k >= 1) out[1] = dx;
  return out;
}

export function checkOrder(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw new Error(`jet: k = ${k}; expected an integer >= 0`);
}

function addCoef(a: Coef, b: Coef): Coef {
  if (a === null) return b;
  if (b === null) return a;
  return tf.add(a, b);
}

export function add(a: Jet, b: Jet): Jet {
  sameOrder(a, b);
  return a.map((c, j) => addCoef(c, b[j]));
}

export function sub(a: Jet, b: Jet): Jet {
  return add(a, scale(b, -1));
}

export function scale(a: Jet, s: number): Jet {
  if (s === 1) return a;
  return a.map((c) => (c === null ? null : tf.mul(c, s)));
}

/** Applies a linear map (reshape, transpose, slice, sum, ...) coefficient-wise. */
export function mapLinear(a: Jet, f: (c: tf.Tensor) => tf.Tensor): Jet {
  return a.map((c) => (c === null ? null : f(c)));
}

/** Cauchy product under any bilinear op (elementwise mul, matMul, conv2d): (a*b)_m = sum_{i+j=m} a_i * b_j. */
export function bilinear(a: Jet, b: Jet, op: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): Jet {
  return cauchyTerms(a, b, (terms) => terms.map(([x, y]) => op(x, y)).reduce((acc, t) => tf.add(acc, t)));
}

/**
 * The Cauchy product with each coefficient's non-zero terms (a_i, b_{m-i}), i ascending, handed to `sum` at once
 * (a kernel that accumulates them itself); coefficients without terms are null.
 */
export function cauchyTerms(a: Jet, b: Jet, sum: (terms: [tf.Tensor, tf.Tensor][]) => tf.Tensor): Jet {
  sameOrder(a, b);
  return a.map((_, m) => {
    const terms: [tf.Tensor, tf.Tensor][] = [];
    for (let i = 0; i <= m; i++) {
      const x = a[i];
      const y = b[m - i];
      if (x !== null && y !== null) terms.push([x, y]);
    }
    return terms.length === 0 ? null : sum(terms);
  });
}

export function mul(a: Jet, b: Jet): Jet {
  return bilinear(a, b, (x, y) => tf.mul(x, y));
}

/** Multiplies each coefficient by a constant tensor (a jet of order 0). */
export function mulConst(a: Jet, c: tf.Tensor): Jet {
  return a.map((x) => (x === null ? null : tf.mul(x, c)));
}

/** Concatenation along an axis; zero coefficients are materialised only where a partner is non-zero. */
export function concat(jets: Jet[], axis: number): Jet {
  const k = order(jets[0]);
  jets.forEach((j) => sameOrder(j, jets[0]));
  const out: Jet = [];
  for (let m = 0; m <= k; m++) {
    if (jets.every((j) => j[m] === null)) {
      out.push(null);
      continue;
    }
    out.push(tf.concat(jets.map((j) => j[m] ?? tf.zerosLike(j[0] as tf.Tensor)), axis));
  }
  return out;
}

/**
 * Composition with an elementwise function phi, given its derivatives phi^(n)(c0) for n = 0..k
 * (Faa di Bruno in power form): phi(c0 + u) = sum_n phi^(n)(c0)/n! u^n with u the jet minus its constant.
 * A `null` derivative is an exact zero (e.g. ReLU'' taken as 0).
 */
export function compose(a: Jet, derivs: Coef[]): Jet {
  const k = order(a);
  if (derivs.length < k + 1) throw new Error(`compose: derivs has ${derivs.length} entries; expected ${k + 1} (orders 0..${k})`);
  const u: Jet = [null, ...a.slice(1)];
  const out: Jet = [derivs[0], ...new Array<Coef>(k).fill(null)];
  let power: Jet = u;
  let factorial = 1;
  for (let n = 1; n <= k; n++) {
    factorial *= n;
    const d = derivs[n];
    if (d !== null) {
      const w = factorial === 1 ? d : tf.div(d, factorial);
      for (let m = n; m <= k; m++) {
        const p = power[m];
        if (p !== null) out[m] = addCoef(out[m], tf.mul(w, p));
      }
    }
    if (n < k) power = mul(power, u);
  }
  return out;
}

/** q = a / b, from b q = a: q_m = (a_m - sum_{j=1..m} b_j q_{m-j}) / b_0. */
export function div(a: Jet, b: Jet): Jet {
  sameOrder(a, b);
  const b0 = b[0];
  if (b0 === null) throw new Error('jet division by a jet with zero constant term');
  const out: Jet = [];
  for (let m = 0; m < a.length; m++) {
    let num: Coef = a[m];
    for (let j = 1; j <= m; j++) {
      const bj = b[j];
      const q = out[m - j];
      if (bj === null || q === null) continue;
      const t = tf.mul(bj, q);
      num = num === null ? tf.neg(t) : tf.sub(num, t);
    }
    out.push(num === null ? null : tf.div(num, b0));
  }
  return out;
}

/** Materialises the coefficients (zeros where null), for callers outside the jet algebra. */
export function coefficients(a: Jet, like?: tf.Tensor): tf.Tensor[] {
  const ref = like ?? (a[0] as tf.Tensor);
  return a.map((c) => (c === null ? tf.zerosLike(ref) : c));
}

function sameOrder(a: Jet, b: Jet): void {
  if (a.length !== b.length) throw new Error(`jet: orders = ${order(a)} and ${order(b)}; expected jets of one order`);
}
