// symmetricEigen (Householder + implicit QL) against an independent float64 oracle: mathjs `eigs` (Jacobi
// rotations). Each case checks the eigenvalues, the eigenvectors as invariant subspaces of eigenvalue clusters,
// the residual ‖AV − VΛ‖ and the orthogonality ‖VᵀV − I‖ against the O(n eps ‖A‖) backward-error bounds of the
// Householder/QL reduction (Golub & Van Loan §8.3).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { all, create } from 'mathjs';
import { symmetricEigen } from '../lib/core/linalg.js';

const EPS = Number.EPSILON;

function fixture(name: string): Float32Array {
  const buf = readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/** Park–Miller uniforms on (−1, 1): independent of lib/core/random. */
function uniforms(seed: number): () => number {
  let s = (seed * 9301 + 49297) % 2147483647;
  return () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
}

function randomSymmetric(n: number, seed: number): Float64Array {
  const r = uniforms(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r();
  return a;
}

/** Orthonormal columns of a random n x n matrix by Gram–Schmidt, run twice ("twice is enough"). */
function randomOrthogonal(n: number, seed: number): number[][] {
  const r = uniforms(seed);
  const q = Array.from({ length: n }, () => Array.from({ length: n }, r));
  for (let i = 0; i < n; i++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += q[i][k] * q[j][k];
        for (let k = 0; k < n; k++) q[i][k] -= dot * q[j][k];
      }
    }
    const norm = Math.hypot(...q[i]);
    for (let k = 0; k < n; k++) q[i][k] /= norm;
  }
  return q;
}

/** Q diag(lambda) Q^T for a random orthogonal Q (rows of `randomOrthogonal` are the eigenvectors). */
function withSpectrum(lambda: number[], seed: number): Float64Array {
  const n = lambda.length;
  const q = randomOrthogonal(n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[k][i] * lambda[k] * q[k][j];
      a[i * n + j] = a[j * n + i] = s;
    }
  }
  return a;
}

/** X X^T with X of n x rank. */
function lowRank(n: number, rank: number, seed: number): Float64Array {
  const r = uniforms(seed);
  const x = Array.from({ length: n }, () => Array.from({ length: rank }, r));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = x[i].reduce((s, v, k) => s + v * x[j][k], 0);
  return a;
}

/** D R D with D = diag(10^(−decades i/(n−1))): entries graded from 1 down to 10^(−2 decades); `reverse` puts the small ones first. */
function graded(n: number, decades: number, seed: number, reverse = false): Float64Array {
  const r = randomSymmetric(n, seed);
  const dAt = (i: number) => 10 ** (-(decades * (reverse ? n - 1 - i : i)) / (n - 1));
  return r.map((v, idx) => v * dAt(Math.floor(idx / n)) * dAt(idx % n));
}

/** Wilkinson's W+_n: tridiagonal, diagonal |i − (n−1)/2|, off-diagonal 1 (pairs of eigenvalues equal to ~1e-14). */
function wilkinsonPlus(n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = Math.abs(i - (n - 1) / 2);
    if (i + 1 < n) a[i * n + i + 1] = a[(i + 1) * n + i] = 1;
  }
  return a;
}

interface Oracle {
  /** Descending. */
  values: number[];
  /** vectors[j] belongs to values[j]. */
  vectors: number[][];
}

// mathjs' Jacobi rotation takes the angle pi/4 whenever |a_jj - a_ii| <= config.relTol and then sets a_ij to 0
// whether or not that angle annihilates it: at the default relTol 1e-12 clustered eigenvalues come out ~7e-13
// off (numpy agrees with ours to 4e-15 there). A relTol at the rounding level keeps the rotations exact.
const math = create(all, { relTol: 1e-16 });

/** mathjs eigs (Jacobi) with the off-diagonal stopping level at 1e-14 ‖A‖ / n. */
function oracle(a: ArrayLike<number>, n: number, norm: number): Oracle {
  const rows = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => a[i * n + j]));
  // (A precision of > 15 significant digits is converted to a BigNumber, which eigs rejects.)
  const { eigenvectors } = math.eigs(rows, { precision: Number((1e-14 * norm).toPrecision(3)) });
  const pairs = eigenvectors.map((p) => ({ value: p.value as number, vector: Array.from(p.vector as unknown as number[]) }));
  pairs.sort((x, y) => y.value - x.value);
  return { values: pairs.map((p) => p.value), vectors: pairs.map((p) => p.vector) };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Index ranges [start, end) of eigenvalues (descending) closer than `tol` to their neighbours. */
function clusters(values: number[], tol: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 1; i <= values.length; i++) {
    if (i === values.length || values[i - 1] - values[i] > tol) {
      out.push([start, i]);
      start = i;
    }
  }
  return out;
}

/** max |(U Uᵀ − V Vᵀ)_ij| over the columns [start, end) of two eigenvector sets (column j of u is u(j)). */
function projectorGap(u: (j: number) => ArrayLike<number>, v: (j: number) => ArrayLike<number>, start: number, end: number, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k <= i; k++) {
      let s = 0;
      for (let j = start; j < end; j++) s += u(j)[i] * u(j)[k] - v(j)[i] * v(j)[k];
      worst = Math.max(worst, Math.abs(s));
    }
  }
  return worst;
}

/** ‖A‖_inf >= ‖A‖_2: the scale of the error bounds, from neither solver. */
function infinityNorm(a: ArrayLike<number>, n: number): number {
  let norm = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.abs(a[i * n + j]);
    norm = Math.max(norm, s);
  }
  return norm;
}

function checkAgainstOracle(name: string, a: ArrayLike<number>, n: number): void {
  const norm = infinityNorm(a, n);
  const got = symmetricEigen(a, n);
  const ref = oracle(a, n, norm);
  const col = (j: number) => Float64Array.from({ length: n }, (_, r) => got.vectors[r * n + j]);
  const cols = Array.from({ length: n }, (_, j) => col(j));

  // Eigenvalues: Weyl's theorem bounds each difference by the backward errors of the two solvers.
  const valueErr = maxAbs(Array.from(got.values, (v, i) => v - ref.values[i]));
  assert.ok(valueErr <= n * EPS * norm, `${name}: eigenvalues differ from mathjs by ${valueErr.toExponential(2)} (> n eps ‖A‖ = ${(n * EPS * norm).toExponential(2)})`);
  assert.deepEqual(Array.from(symmetricEigen(a, n, { vectors: false }).values), Array.from(got.values), `${name}: values without vectors`);

  // Residual and orthogonality.
  let residual = 0;
  for (let j = 0; j < n; j++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[r * n + k] * cols[j][k];
      residual = Math.max(residual, Math.abs(s - got.values[j] * cols[j][r]));
    }
  }
  assert.ok(residual <= n * EPS * norm, `${name}: max |AV − VΛ| = ${residual.toExponential(2)} (> n eps ‖A‖ = ${(n * EPS * norm).toExponential(2)})`);
  let orth = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += cols[i][k] * cols[j][k];
      orth = Math.max(orth, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  assert.ok(orth <= 4 * n * EPS, `${name}: max |VᵀV − I| = ${orth.toExponential(2)} (> 4 n eps = ${(4 * n * EPS).toExponential(2)})`);

  // Eigenvectors: per cluster of the oracle's eigenvalues, the spectral projectors agree to the Davis–Kahan
  // bound sin θ <= ‖residual‖ / gap (a few n eps ‖A‖ / gap).
  for (const [start, end] of clusters(ref.values, 1e-8 * norm)) {
    if (end - start === n) continue;
    const gap = Math.min(start > 0 ? ref.values[start - 1] - ref.values[start] : Infinity, end < n ? ref.values[end - 1] - ref.values[end] : Infinity);
    const tol = (4 * n * EPS * norm) / gap;
    const diff = projectorGap((j) => cols[j], (j) => ref.vectors[j], start, end, n);
    assert.ok(diff <= tol, `${name}: eigenvectors ${start}..${end - 1} (λ ≈ ${ref.values[start].toPrecision(6)}, gap ${gap.toExponential(2)}) differ from mathjs by ${diff.toExponential(2)} (> ${tol.toExponential(2)})`);
  }
}

describe('symmetricEigen against mathjs eigs (float64 oracle)', () => {
  test('float32 NTK of rank 19 close to 11ᵀ (fcn-pytorch of 003_ch4_sgd_catapults; its Householder columns underflowed to NaN)', () => {
    const A = fixture('kernel-pytorch-rank19-128.f32');
    checkAgainstOracle('rank-19 NTK', A, 128);
    // numpy.linalg.eigvalsh (LAPACK) of the same matrix, in float64:
    const top = Array.from(symmetricEigen(A, 128, { vectors: false }).values.slice(0, 3));
    const numpy = [131.02943432326518, 95.46920944852886, 0.036031268683831275];
    top.forEach((v, i) => assert.ok(Math.abs(v - numpy[i]) <= 1e-12 * 131, `λ_${i} = ${v} vs numpy ${numpy[i]}`));
  });
  test('float32 NTK close to 11ᵀ (the earlier deflation fixture)', () => checkAgainstOracle('near-rank-one NTK', fixture('kernel-near-rank-one-128.f32'), 128));
  test('random symmetric', () => {
    for (const n of [1, 2, 3, 7, 50]) checkAgainstOracle(`random n = ${n}`, randomSymmetric(n, n), n);
  });
  test('rank-deficient: XXᵀ of rank 3 and 11ᵀ', () => {
    checkAgainstOracle('XXᵀ, rank 3', lowRank(50, 3, 5), 50);
    checkAgainstOracle('11ᵀ', new Float64Array(40 * 40).fill(1), 40);
  });
  test('clustered eigenvalues: an exact multiple one, clusters 1e-14 and 1e-10 wide, and Wilkinson’s W+21', () => {
    const lambda = Array.from({ length: 48 }, (_, i) => (i % 3 === 0 ? 3 * (1 + 1e-14 * i) : i % 3 === 1 ? 1 : -2 + 1e-10 * i));
    checkAgainstOracle('clustered', withSpectrum(lambda, 3), 48);
    checkAgainstOracle('W+21', wilkinsonPlus(21), 21);
  });
  test('graded matrices (entries over 12 decades, large first and large last)', () => {
    checkAgainstOracle('graded', graded(40, 6, 8), 40);
    checkAgainstOracle('graded, reversed', graded(40, 6, 8, true), 40);
    checkAgainstOracle('graded spectrum 1 .. 1e-15', withSpectrum(Array.from({ length: 30 }, (_, i) => 10 ** (-i / 2)), 4), 30);
  });
});

describe('symmetricEigen: scaling and failure report', () => {
  test('scaled reflectors: A·1e±200 has the eigenvalues of A times 1e±200 (raw squares would under/overflow)', () => {
    const n = 30;
    const a = randomSymmetric(n, 11);
    const base = symmetricEigen(a, n).values;
    for (const s of [1e-200, 1e200]) {
      const got = symmetricEigen(a.map((v) => v * s), n);
      assert.ok(got.values.every(Number.isFinite), `scale ${s}: non-finite eigenvalues`);
      const err = maxAbs(Array.from(got.values, (v, i) => v / s - base[i]));
      assert.ok(err <= 1e-13 * maxAbs(base), `scale ${s}: eigenvalues / scale differ by ${err.toExponential(2)}`);
      assert.ok(got.vectors.every(Number.isFinite), `scale ${s}: non-finite eigenvectors`);
    }
  });
  test('the QL step budget is 30n by default; exhausting it names the size, the iterations and the off-diagonal residual', () => {
    const a = randomSymmetric(10, 2);
    assert.throws(
      () => symmetricEigen(a, 10, { maxIterations: 3 }),
      /symmetricEigen: QL iteration did not converge for the 10 x 10 matrix after 3 iterations \(cap 3\): off-diagonal residual max \|e_i\| = \d\.\d+e[-+]\d+ \(\d\.\d+e[-+]\d+ of \|\|T\|\| = /,
    );
    assert.throws(() => symmetricEigen(a, 10, { maxIterations: NaN }), /symmetricEigen: maxIterations = NaN; expected a number >= 0/);
  });
});
