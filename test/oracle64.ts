/**
 * Independent float64 reference for the tests: plain-number forward passes of tiny networks (no tfjs, no
 * jets), and derivatives from polynomial fits on Chebyshev nodes, which are accurate to ~1e-10 for the
 * analytic functions of a line t -> f(w + t v).
 */
export type Vec = number[];
export type P64 = Record<string, { shape: number[]; data: Float64Array }>;

export const act64: Record<string, (z: number) => number> = {
  identity: (z) => z,
  relu: (z) => Math.max(z, 0),
  tanh: Math.tanh,
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  softplus: (z) => Math.log1p(Math.exp(z)),
  quadratic: (z) => (z * z) / 2,
  swish: (z) => z / (1 + Math.exp(-z)),
  exp: Math.exp,
};

export function act(name: string): (z: number) => number {
  const m = /^swish\((.+)\)$/.exec(name);
  if (m) {
    const b = Number(m[1]);
    return (z) => z / (1 + Math.exp(-b * z));
  }
  const f = act64[name];
  if (!f) throw new Error(`oracle has no activation ${name}`);
  return f;
}

/** y = scale * W a (+ bs * b), W row-major [out, in]. */
export function dense(W: Float64Array, out: number, a: Vec, scale: number, b?: Float64Array, bs = 1, mask?: Float64Array, rowScale?: Vec): Vec {
  const n = a.length;
  const y: Vec = [];
  for (let i = 0; i < out; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += W[i * n + j] * (mask ? mask[i * n + j] : 1) * a[j];
    y.push(s * scale * (rowScale ? rowScale[i] : 1) + (b ? bs * b[i] : 0));
  }
  return y;
}

export function softmax64(z: Vec): Vec {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function axpy(p: P64, t: number, v: P64): P64 {
  return Object.fromEntries(Object.entries(p).map(([k, x]) => [k, { shape: x.shape, data: x.data.map((y, i) => y + t * (v[k] ? v[k].data[i] : 0)) }]));
}

/** The unit vector e_(name, i) in the space of p. */
export function unit(p: P64, name: string, i: number): P64 {
  const e: P64 = Object.fromEntries(Object.entries(p).map(([k, x]) => [k, { shape: x.shape, data: new Float64Array(x.data.length) }]));
  e[name].data[i] = 1;
  return e;
}

/** Taylor coefficients c_0..c_k of a scalar function of t, from a degree-(N-1) fit on N Chebyshev nodes in [-h, h]. */
export function taylorFit(g: (t: number) => number, k: number, h = 0.05, N = 14): number[] {
  const s = Array.from({ length: N }, (_, j) => Math.cos((Math.PI * (j + 0.5)) / N));
  const vals = s.map((sj) => g(h * sj));
  // Solve the Vandermonde system in s (monomials) by Gaussian elimination with partial pivoting.
  const A = s.map((sj) => Array.from({ length: N }, (_, p) => sj ** p));
  const b = vals.slice();
  for (let c = 0; c < N; c++) {
    let piv = c;
    for (let r = c + 1; r < N; r++) if (Math.abs(A[r][c]) > Math.abs(A[piv][c])) piv = r;
    [A[c], A[piv]] = [A[piv], A[c]];
    [b[c], b[piv]] = [b[piv], b[c]];
    for (let r = c + 1; r < N; r++) {
      const f = A[r][c] / A[c][c];
      for (let q = c; q < N; q++) A[r][q] -= f * A[c][q];
      b[r] -= f * b[c];
    }
  }
  const a = new Array<number>(N).fill(0);
  for (let r = N - 1; r >= 0; r--) {
    let acc = b[r];
    for (let q = r + 1; q < N; q++) acc -= A[r][q] * a[q];
    a[r] = acc / A[r][r];
  }
  return a.slice(0, k + 1).map((ap, p) => ap / h ** p);
}

/** Directional derivatives along unit vectors: the gradient of a scalar function of params. */
export function gradient64(f: (p: P64) => number, p: P64, h = 0.05, nodes = 14): P64 {
  const out: P64 = {};
  for (const [name, x] of Object.entries(p)) {
    const g = new Float64Array(x.data.length);
    for (let i = 0; i < g.length; i++) {
      g[i] = taylorFit((t) => f(axpy(p, t, unit(p, name, i))), 1, h, nodes)[1];
    }
    out[name] = { shape: x.shape, data: g };
  }
  return out;
}

/** H v by polarization: (H v)_i = D^2 f[e_i, v] = c2(e_i + v) - c2(e_i) - c2(v), each c2 from a fit. */
export function hvp64(f: (p: P64) => number, p: P64, v: P64, h = 0.05, nodes = 14): P64 {
  const c2 = (d: P64) => taylorFit((t) => f(axpy(p, t, d)), 2, h, nodes)[2];
  const cv = c2(v);
  const out: P64 = {};
  for (const [name, x] of Object.entries(p)) {
    const g = new Float64Array(x.data.length);
    for (let i = 0; i < g.length; i++) {
      const e = unit(p, name, i);
      g[i] = c2(axpy(e, 1, v)) - c2(e) - cv;
    }
    out[name] = { shape: x.shape, data: g };
  }
  return out;
}
