import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../lib/core/backend.js';
import { createRng } from '../lib/core/random.js';
import {
  CIFAR10_RECORD_BYTES, CIFAR10_TEST_FILES, CIFAR10_TRAIN_FILES, type Dataset, REGRESSION_TASKS, downloadVerified,
  extractCifar10Archive, featureStats, gaussianClusters, generalQuadraticModel, loadCifar10, loadImageSubset, loadMnist,
  quadraticModelGradient, quadraticModelKernel, quadraticModelValue, regressionData, regressionTask, splitDataset,
  standardizeDataset, taskEgop, threeClassMixture, twoClusterData, unitSphereData,
} from '../lib/data/index.js';

const arr = (ds: Dataset) => ({ x: ds.x.dataSync() as Float32Array, y: ds.y.dataSync() as Float32Array, n: ds.x.shape[0], d: ds.x.shape[1], c: ds.y.shape[1] });
function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}
function sd(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return Math.sqrt(s / a.length);
}

before(async () => {
  await initBackend();
});

describe('002 three-class mixture', () => {
  test('defaults: N = 60, d = 1, one-hot over 3 classes, deterministic', () => {
    const a = threeClassMixture({ seed: 1 });
    const b = threeClassMixture({ seed: 1 });
    const c = threeClassMixture({ seed: 2 });
    const A = arr(a);
    assert.deepEqual([A.n, A.d, A.c], [60, 1, 3]);
    assert.deepEqual(A.x, arr(b).x);
    assert.notDeepEqual(A.x, arr(c).x);
    for (let i = 0; i < 60; i++) {
      const row = Array.from(A.y.subarray(i * 3, i * 3 + 3));
      assert.deepEqual(row, [0, 1, 2].map((k) => (k === a.labels![i] ? 1 : 0)));
    }
    [a, b, c].forEach((d) => d.dispose());
  });

  test('labels uniform, x | y ~ N(0,1), N(10,1), N(−10,1) (eq. 42)', () => {
    const ds = threeClassMixture({ seed: 3, n: 30_000 });
    const { x } = arr(ds);
    for (const [k, mu] of [[0, 0], [1, 10], [2, -10]]) {
      const xs = Array.from(x).filter((_, i) => ds.labels![i] === k);
      assert.ok(Math.abs(xs.length / 30_000 - 1 / 3) < 0.015, `class ${k} frequency ${xs.length / 30_000}`);
      assert.ok(Math.abs(mean(xs) - mu) < 0.05, `class ${k} mean ${mean(xs)}`);
      assert.ok(Math.abs(sd(xs) - 1) < 0.04, `class ${k} sd ${sd(xs)}`);
    }
    ds.dispose();
  });
});

describe('003 Fig 3.3 two-cluster data', () => {
  test('128 points, x ~ N(±2, 1) with labels ±1', () => {
    const small = twoClusterData({ seed: 0 });
    assert.deepEqual(small.x.shape, [128, 1]);
    small.dispose();
    const ds = twoClusterData({ seed: 4, n: 40_000 });
    const { x, y } = arr(ds);
    for (const s of [-1, 1]) {
      const xs = Array.from(x).filter((_, i) => y[i] === s);
      assert.ok(Math.abs(xs.length / 40_000 - 0.5) < 0.015);
      assert.ok(Math.abs(mean(xs) - 2 * s) < 0.04, `mean ${mean(xs)} for label ${s}`);
      assert.ok(Math.abs(sd(xs) - 1) < 0.03);
    }
    ds.labels!.forEach((l, i) => assert.equal(y[i], l === 1 ? 1 : -1));
    ds.dispose();
  });
});

describe('003 Fig 4.5 unit-sphere data', () => {
  test('norms 1 except the scaled point (norm 2, label 2); isotropic', () => {
    const ds = unitSphereData({ seed: 5 });
    const { x, y, n, d } = arr(ds);
    assert.deepEqual([n, d], [100, 100]);
    const k = ds.meta.scaledIndex as number;
    for (let i = 0; i < n; i++) {
      const norm = Math.hypot(...x.subarray(i * d, (i + 1) * d));
      assert.ok(Math.abs(norm - (i === k ? 2 : 1)) < 1e-5, `row ${i} norm ${norm}`);
      assert.equal(y[i], i === k ? 2 : 1);
    }
    ds.dispose();
    const big = unitSphereData({ seed: 6, n: 20_000, d: 5, scaledIndex: 0 });
    const B = arr(big);
    for (let j = 0; j < 5; j++) {
      const col = Array.from({ length: 19_999 }, (_, i) => B.x[(i + 1) * 5 + j]);
      assert.ok(Math.abs(mean(col)) < 0.01);
      assert.ok(Math.abs(mean(col.map((v) => v * v)) - 1 / 5) < 0.005);
    }
    big.dispose();
  });
});

/** E[∇f ∇fᵀ] by Monte Carlo with central finite differences of f in float64, with per-entry standard errors. */
function egopMonteCarlo(f: (x: Float64Array) => number, d: number, samples: number, seed: number) {
  const rng = createRng(seed);
  const sum = new Float64Array(d * d);
  const sumSq = new Float64Array(d * d);
  const x = new Float64Array(d);
  const g = new Float64Array(d);
  const h = 1e-5;
  for (let s = 0; s < samples; s++) {
    rng.fillNormal(x);
    for (let j = 0; j < d; j++) {
      const v = x[j];
      x[j] = v + h;
      const fp = f(x);
      x[j] = v - h;
      const fm = f(x);
      x[j] = v;
      g[j] = (fp - fm) / (2 * h);
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const p = g[i] * g[j];
        sum[i * d + j] += p;
        sumSq[i * d + j] += p * p;
      }
    }
  }
  const m = sum.map((v) => v / samples);
  const se = sumSq.map((v, k) => Math.sqrt(Math.max(v / samples - m[k] ** 2, 0) / samples));
  return { m, se };
}

describe('003 Ch.4 regression tasks and their EGOPs', () => {
  const dims = { rank2: 5, rank3: 12, rank4: 6, fullRank: 5 } as const;

  for (const name of REGRESSION_TASKS) {
    test(`${name}: exact EGOP matches Monte Carlo of finite-difference gradients`, () => {
      const task = regressionTask(name);
      const d = dims[name];
      const G = taskEgop(name, d);
      const { m, se } = egopMonteCarlo((x) => task.f(x), d, 150_000, 17);
      for (let k = 0; k < d * d; k++) {
        const tol = 4 * se[k] + 1e-6 + 1e-3 * Math.abs(G[k]);
        assert.ok(Math.abs(m[k] - G[k]) <= tol, `${name} G[${Math.floor(k / d)},${k % d}] exact ${G[k]} vs MC ${m[k]} ± ${se[k]}`);
      }
    });

    test(`${name}: analytic gradient equals finite differences`, () => {
      const task = regressionTask(name);
      const d = dims[name];
      const rng = createRng(3);
      for (let s = 0; s < 20; s++) {
        const x = rng.fillNormal(new Float64Array(d));
        const g = task.grad(x);
        for (let j = 0; j < d; j++) {
          const xp = x.slice(), xm = x.slice();
          xp[j] += 1e-6;
          xm[j] -= 1e-6;
          const fd = (task.f(xp) - task.f(xm)) / 2e-6;
          assert.ok(Math.abs(fd - g[j]) < 1e-6 * (1 + Math.abs(g[j])), `${name} ∂${j}: ${g[j]} vs ${fd}`);
        }
      }
    });
  }

  test('rank-3 EGOP has eigenvalues 24, 10, 4 (power sums of the spectrum)', () => {
    const d = 10;
    const G = taskEgop('rank3', d);
    const mul = (A: Float64Array, B: Float64Array) => {
      const C = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) C[i * d + j] += A[i * d + k] * B[k * d + j];
      return C;
    };
    const tr = (A: Float64Array) => Array.from({ length: d }, (_, i) => A[i * d + i]).reduce((a, b) => a + b, 0);
    const G2 = mul(G, G);
    assert.equal(tr(G), 24 + 10 + 4);
    assert.equal(tr(G2), 24 ** 2 + 10 ** 2 + 4 ** 2);
    assert.equal(tr(mul(G2, G)), 24 ** 3 + 10 ** 3 + 4 ** 3);
    assert.equal(tr(mul(G2, G2)), 24 ** 4 + 10 ** 4 + 4 ** 4);
  });

  test('regressionData: x ~ N(0, I), y = f*(x) + N(0, 0.1²), yClean = f*(x)', () => {
    for (const name of REGRESSION_TASKS) {
      const ds = regressionData({ task: name, n: 4000, d: 20, seed: 9 });
      const { x, y, n, d } = arr(ds);
      const yc = ds.yClean!.dataSync();
      const task = regressionTask(name);
      for (let i = 0; i < n; i += 97) {
        const fx = task.f(Float64Array.from(x.subarray(i * d, (i + 1) * d)));
        assert.ok(Math.abs(fx - yc[i]) < 1e-4 * (1 + Math.abs(fx)), `${name} yClean[${i}]`);
      }
      const noise = Array.from(y, (v, i) => v - yc[i]);
      assert.ok(Math.abs(mean(noise)) < 0.01);
      assert.ok(Math.abs(sd(noise) - 0.1) < 0.006, `${name} noise sd ${sd(noise)}`);
      assert.ok(Math.abs(mean(x)) < 0.01);
      assert.ok(Math.abs(sd(x) - 1) < 0.01);
      assert.equal(ds.meta.egopRank, name === 'fullRank' ? 20 : Number(name.slice(4)));
      ds.dispose();
    }
    assert.throws(() => regressionData({ task: 'rank3', n: 10, d: 5, seed: 1 }), /d = 5; expected an integer ≥ 10/);
    assert.throws(() => regressionData({ task: 'rank5' as never, n: 10, seed: 1 }), /name = "rank5"; expected one of 'rank2', 'rank3', 'rank4', 'fullRank'/);
  });
});

describe('multi-class Gaussian clusters', () => {
  test('balanced classes whose means are the stated centres', () => {
    const ds = gaussianClusters({ perClass: 3000, classes: 4, dim: 6, seed: 2, separation: 5, std: 0.5 });
    const { x, y, n, d, c } = arr(ds);
    assert.deepEqual([n, d, c], [12_000, 6, 4]);
    const mus = ds.meta.means as number[];
    for (let k = 0; k < 4; k++) {
      const rows = Array.from({ length: n }, (_, i) => i).filter((i) => ds.labels![i] === k);
      assert.equal(rows.length, 3000);
      assert.ok(Math.abs(Math.hypot(...mus.slice(k * 6, k * 6 + 6)) - 5) < 1e-9);
      for (let j = 0; j < 6; j++) {
        const col = rows.map((i) => x[i * d + j]);
        assert.ok(Math.abs(mean(col) - mus[k * 6 + j]) < 0.04, `class ${k} coord ${j}`);
        assert.ok(Math.abs(sd(col) - 0.5) < 0.03);
      }
      rows.forEach((i) => assert.equal(y[i * 4 + k], 1));
    }
    ds.dispose();
    const signed = gaussianClusters({ perClass: 5, classes: 2, dim: 2, seed: 1, targets: 'signed' });
    assert.deepEqual(signed.y.shape, [10, 1]);
    signed.dispose();
    assert.throws(() => gaussianClusters({ perClass: 5, classes: 3, dim: 2, seed: 1, targets: 'signed' }), /'signed' needs exactly 2 classes, got 3/);
  });
});

describe('003 Fig B.4(a) general quadratic model', () => {
  test('φ = x/‖x‖, Σ = diag(±1), w0 ~ N(0, I); λ0 ≈ 1; gradient matches finite differences', () => {
    const m = generalQuadraticModel({ seed: 1 });
    assert.equal(m.d, 100);
    assert.equal(m.gamma, 1e-3);
    assert.ok(Math.abs(Math.hypot(...m.phi) - 1) < 1e-12);
    assert.ok(m.sigma.every((s) => s === 1 || s === -1));
    const lambda0 = quadraticModelKernel(m, m.w0)[0];
    assert.ok(Math.abs(lambda0 - 1) < 0.05, `λ0 = ${lambda0}`);
    const g = quadraticModelGradient(m, m.w0);
    for (const j of [0, 17, 99]) {
      const wp = m.w0.slice(), wm = m.w0.slice();
      wp[j] += 1e-6;
      wm[j] -= 1e-6;
      const fd = (quadraticModelValue(m, wp) - quadraticModelValue(m, wm)) / 2e-6;
      assert.ok(Math.abs(fd - g[j]) < 1e-8);
    }
    const many = generalQuadraticModel({ seed: 2, d: 20_000 });
    assert.ok(Math.abs(mean(many.sigma)) < 0.03);
    assert.ok(Math.abs(sd(many.w0) - 1) < 0.02);
  });
});

describe('splits', () => {
  test('disjoint, covering, deterministic; stratified keeps class proportions', () => {
    const ds = threeClassMixture({ seed: 1, n: 600 });
    const s = splitDataset(ds, { train: 300, validation: 100, test: 200 }, 5);
    const all = [...s.indices.train, ...s.indices.validation!, ...s.indices.test!];
    assert.equal(new Set(all).size, 600);
    assert.deepEqual(splitDataset(ds, { train: 300, validation: 100, test: 200 }, 5).indices.train, s.indices.train);
    assert.notDeepEqual(splitDataset(ds, { train: 300 }, 6).indices.train, s.indices.train);
    const X = ds.x.dataSync();
    const tx = s.test!.x.dataSync();
    s.indices.test!.forEach((row, i) => assert.equal(tx[i], X[row]));
    assert.deepEqual(Array.from(s.test!.labels!), Array.from(s.indices.test!, (r) => ds.labels![r]));

    const st = splitDataset(ds, { train: 0.5, test: 0.25 }, 5, { stratify: true });
    assert.equal(st.train.x.shape[0], 300);
    assert.equal(st.test!.x.shape[0], 150);
    for (let k = 0; k < 3; k++) {
      const frac = (l: Int32Array) => l.filter((v) => v === k).length / l.length;
      assert.ok(Math.abs(frac(st.train.labels!) - frac(ds.labels!)) < 0.01);
    }
    assert.throws(() => splitDataset(ds, { train: 500, test: 200 }, 1), /train 500 \+ test 200 = 700 exceeds the 600 examples/);
    assert.throws(() => splitDataset(ds, { train: 0.5, test: 20 }, 1), /mix fractions and counts/);
    assert.throws(() => splitDataset(ds, { train: -1 }, 1), /train = -1/);
    s.dispose();
    st.dispose();
    ds.dispose();
  });
});

describe('real images', () => {
  let dir: string;
  /** Record r of file f has label (r + f) % 10 and pixel p of channel ch equal to (label·7 + ch·3 + p + r) % 256. */
  const pixel = (label: number, ch: number, p: number, r: number) => (label * 7 + ch * 3 + p + r) % 256;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cifar-'));
    [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES].forEach((f, fi) => {
      const records = 20;
      const buf = Buffer.alloc(records * CIFAR10_RECORD_BYTES);
      for (let r = 0; r < records; r++) {
        const label = (r + fi) % 10;
        buf[r * CIFAR10_RECORD_BYTES] = label;
        for (let ch = 0; ch < 3; ch++) for (let p = 0; p < 1024; p++) buf[r * CIFAR10_RECORD_BYTES + 1 + ch * 1024 + p] = pixel(label, ch, p, r);
      }
      writeFileSync(join(dir, f), buf);
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('CIFAR-10 binary loader: class subset, per-class sampling, exact pixels, layouts, targets', () => {
    const ds = loadCifar10({ dir, classes: [7, 9], perClass: 6, seed: 1 });
    const { x, y, n, d, c } = arr(ds);
    assert.deepEqual([n, d, c], [12, 3072, 1]);
    assert.equal(ds.labels!.filter((l) => l === 0).length, 6);
    const srcIdx = ds.meta.sourceIndex as Int32Array;
    for (let i = 0; i < n; i++) {
      const cls = ds.labels![i] === 0 ? 7 : 9;
      assert.equal(y[i], ds.labels![i] === 0 ? -1 : 1);
      // find r from pixel 0 of channel 0: (cls·7 + r) % 256
      const r = (Math.round(x[i * d] * 255) - cls * 7 + 256) % 256;
      for (const [ch, p] of [[0, 5], [1, 100], [2, 1023]]) {
        assert.ok(Math.abs(x[i * d + ch * 1024 + p] - pixel(cls, ch, p, r) / 255) < 1e-6);
      }
      assert.ok(srcIdx[i] >= 0);
    }
    const again = loadCifar10({ dir, classes: [7, 9], perClass: 6, seed: 1 });
    assert.deepEqual(again.x.dataSync(), ds.x.dataSync());
    const hwc = loadCifar10({ dir, classes: [7, 9], perClass: 6, seed: 1, layout: 'hwc', scale: 'raw' });
    const H = hwc.x.dataSync();
    for (const [ch, p] of [[0, 3], [1, 77], [2, 1000]]) assert.equal(H[p * 3 + ch], Math.round(x[ch * 1024 + p] * 255));
    const test10 = loadCifar10({ dir, split: 'test', seed: 2 });
    assert.deepEqual(test10.y.shape, [20, 10]);
    const std = loadCifar10({ dir, classes: [0, 2], perClass: 4, seed: 3, standardize: true });
    const st = featureStats(std.x.dataSync(), 8, 3072);
    assert.ok(Math.abs(st.mean[10]) < 1e-5);
    assert.ok(st.std.every((v) => v < 1e-6 || Math.abs(v - 1) < 1e-4));
    [ds, again, hwc, test10, std].forEach((t) => t.dispose());
  });

  test('CIFAR-10 errors name the directory, the files and where to get them', () => {
    const empty = mkdtempSync(join(tmpdir(), 'nocifar-'));
    assert.throws(() => loadCifar10({ dir: empty }), (e: Error) => {
      assert.match(e.message, new RegExp(empty.replace(/[/\\]/g, '.')));
      assert.match(e.message, /data_batch_1\.bin/);
      assert.match(e.message, /cifar-10-binary\.tar\.gz/);
      return true;
    });
    writeFileSync(join(empty, 'bad.bin'), Buffer.alloc(100));
    assert.throws(() => loadCifar10({ dir: empty, files: ['bad.bin'] }), /size 100 is not a positive multiple of 3073/);
    assert.throws(() => loadCifar10({ dir, classes: [7], perClass: 1000, seed: 1 }), /perClass = 1000 but only \d+ examples of class 7 \(horse\)/);
    assert.throws(() => loadCifar10({ dir, classes: [10] }), /class 10 is not a class id/);
    assert.throws(() => loadCifar10({ dir, classes: [1], perClass: 2 }), /needs a seed/);
    rmSync(empty, { recursive: true, force: true });
  });

  test('MNIST from the mnist package; loadImageSubset reports the source', () => {
    const m = loadMnist({ classes: [0, 2], perClass: 5, seed: 1 });
    const { x, n, d } = arr(m);
    assert.deepEqual([n, d], [10, 784]);
    assert.ok(x.every((v) => v >= 0 && v <= 1));
    assert.ok(mean(x) > 0.05);
    assert.deepEqual(loadMnist({ classes: [0, 2], perClass: 5, seed: 1 }).x.dataSync(), x);
    const empty = mkdtempSync(join(tmpdir(), 'nocifar-'));
    const auto = loadImageSubset({ classes: [7, 9], perClass: 3, seed: 1, cifarDir: empty });
    assert.equal(auto.source, 'mnist');
    assert.match(auto.note, /CIFAR-10 not found/);
    assert.match(auto.note, new RegExp(empty.replace(/[/\\]/g, '.')));
    const cifar = loadImageSubset({ classes: [7, 9], perClass: 3, seed: 1, cifarDir: dir });
    assert.equal(cifar.source, 'cifar10');
    assert.throws(() => loadImageSubset({ source: 'cifar10', classes: [7, 9], perClass: 3, seed: 1, cifarDir: empty }), /CIFAR-10 binary files not found/);
    assert.throws(() => loadImageSubset({ source: 'svhn' as never, classes: [0], perClass: 1, seed: 1 }), /source = "svhn"/);
    [m, auto, cifar].forEach((t) => t.dispose());
    rmSync(empty, { recursive: true, force: true });
  });

  test('archive extraction (tar.gz made by tar) and the download guard', async (t) => {
    try {
      execFileSync('tar', ['--version'], { stdio: 'ignore' });
    } catch {
      t.skip('tar not available');
      return;
    }
    const work = mkdtempSync(join(tmpdir(), 'cifar-tar-'));
    mkdirSync(join(work, 'cifar-10-batches-bin'));
    for (const f of [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES]) writeFileSync(join(work, 'cifar-10-batches-bin', f), readFileSync(join(dir, f)));
    writeFileSync(join(work, 'cifar-10-batches-bin', 'readme.html'), 'x');
    execFileSync('tar', ['czf', join(work, 'a.tar.gz'), '-C', work, 'cifar-10-batches-bin']);
    const out = join(work, 'out');
    const written = extractCifar10Archive(join(work, 'a.tar.gz'), out);
    assert.equal(written.length, 6);
    for (const f of CIFAR10_TRAIN_FILES) assert.deepEqual(readFileSync(join(out, f)), readFileSync(join(dir, f)));
    const saved = process.env.TANGENT_ALLOW_DOWNLOAD;
    delete process.env.TANGENT_ALLOW_DOWNLOAD;
    await assert.rejects(downloadVerified('https://example.invalid/x', join(work, 'x'), { sha256: '0' }), /network downloads are off; pass \{ allowNetwork: true \}/);
    if (saved !== undefined) process.env.TANGENT_ALLOW_DOWNLOAD = saved;
    rmSync(work, { recursive: true, force: true });
  });

  test('standardizeDataset applies training statistics to other data', () => {
    const a = gaussianClusters({ perClass: 200, classes: 2, dim: 3, seed: 1 });
    const b = gaussianClusters({ perClass: 200, classes: 2, dim: 3, seed: 2 });
    const sa = standardizeDataset(a);
    const st = featureStats(sa.dataset.x.dataSync(), 400, 3);
    st.mean.forEach((m) => assert.ok(Math.abs(m) < 1e-6));
    st.std.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-5));
    const sb = standardizeDataset(b, sa.stats);
    const raw = b.x.dataSync();
    const z = sb.dataset.x.dataSync();
    assert.ok(Math.abs(z[4] - (raw[4] - sa.stats.mean[1]) / sa.stats.std[1]) < 1e-5);
    [a, b, sa.dataset, sb.dataset].forEach((t) => t.dispose());
  });
});
