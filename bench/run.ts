/**
 * `npm run bench`: tangent-lab against PyTorch on CPU, side by side, in one run (issue 3, "Speed").
 *
 * 1. Empirical NTK of a 5-layer width-1024 ReLU FCN (widths [784,1024,1024,1024,1024,1], NTK
 *    parameterization, no bias) on n = 128 inputs: ours `tangentKernel` (layer-wise path), and the
 *    `jacobian` path on a smaller n; PyTorch: functorch vmap(jacrev) Jacobian contraction.
 * 2. Hessian spectral norm of a 2-layer tanh net (widths [100,4096,1]), 50 HVP power iterations, and one HVP.
 * 3. Taylor coefficients c0..c3 along one direction for the same net.
 * Cases 2-3 run for one input (the Hessian of f(x)) and for a batch of 128 inputs with the batch sum as the
 * model output (u = ones).
 *
 * Both sides use the same weights and inputs: ours are exported with lib/npz.ts saveParams and loaded with
 * numpy by bench/torch_bench.py, which also checks that the results agree. PyTorch runs once per bench run
 * (one subprocess, JSON config in, JSON timings out); it is skipped with a note when no interpreter imports
 * torch (TANGENT_PYTHON, python3, /usr/bin/python3 are tried in turn).
 *
 * Environment: BENCH_QUICK=1 shrinks every size for a smoke test (results.md is then not written);
 * BENCH_TORCH_THREADS overrides the headline PyTorch thread count (default: the number of cores); BENCH_TORCH=0
 * skips the PyTorch side.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendInfo, describeBackend, initBackend } from '../lib/core/backend.js';
import { hvp } from '../lib/analysis/derivatives.js';
import { fcn } from '../lib/nets/fcn.js';
import { hessianSpectralNorm, randomDirection } from '../lib/analysis/hessian.js';
import { type Network, taylorCoefficients } from '../lib/nets/network.js';
import { saveParams } from '../lib/nets/npz.js';
import { tangentKernel } from '../lib/analysis/ntk.js';
import { type Params, pv } from '../lib/core/params.js';
import { normals, rngFor } from '../lib/core/random.js';
import { countTransposedMatMuls, withExplicitTransposes } from './wasm-matmul.js';

// ------------------------------------------------------------------------------------------ set-up
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCH_DIR = path.join(ROOT, 'bench');
const QUICK = process.env.BENCH_QUICK === '1';
const CORES = os.cpus().length;
const T0 = performance.now();

const CFG = QUICK
  ? {
      ntk: { widths: [784, 128, 128, 1], n: 16, jacobianN: 4 },
      ntkCheck: { widths: [20, 16, 16, 1], n: 8 },
      hess: { widths: [100, 256, 1], batches: [1, 16], maxIter: 10 },
      repeats: { ntk: 2, power: 2, small: 3 },
    }
  : {
      ntk: { widths: [784, 1024, 1024, 1024, 1024, 1], n: 128, jacobianN: 32 },
      ntkCheck: { widths: [20, 16, 16, 1], n: 8 },
      hess: { widths: [100, 4096, 1], batches: [1, 128], maxIter: 50 },
      repeats: { ntk: 3, power: 3, small: 5 },
    };

function log(msg: string): void {
  const s = ((performance.now() - T0) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[bench ${s}s] ${msg}\n`);
}

interface Timing {
  /** seconds */
  median: number;
  times: number[];
  /** Tensors left alive per call (should be 0). */
  leakedPerCall: number;
}

/** Median wall time (s) of `repeats` calls after `warmup` calls; fn must synchronise (dataSync) and dispose. */
function timed(label: string, fn: () => void, repeats: number, warmup = 1): Timing {
  const before = tf.memory().numTensors;
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    fn();
    times.push((performance.now() - t) / 1000);
  }
  const leaked = tf.memory().numTensors - before;
  const leakedPerCall = leaked / (warmup + repeats);
  if (leaked !== 0) log(`  WARNING: ${label} left ${leakedPerCall} tensors alive per call`);
  const sorted = [...times].sort((a, b) => a - b);
  const t: Timing = { median: sorted[Math.floor(sorted.length / 2)], times, leakedPerCall };
  log(`  ${label}: median ${fmtTime(t.median)} (${times.map(fmtTime).join(', ')})`);
  return t;
}

function fmtTime(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '—';
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toPrecision(3)} ms`;
  return `${s.toPrecision(3)} s`;
}

function fmtSci(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toExponential(1);
}

const MB = 2 ** 20;
function wasmHeapBytes(): number | undefined {
  // Internal, for memory notes only: the wasm backend's linear memory (grows, never shrinks).
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.byteLength;
}
function memNote(): { rssMB: number; heapMB?: number; tensors: number; tensorMB: number } {
  const heap = wasmHeapBytes();
  return {
    rssMB: process.memoryUsage().rss / MB,
    heapMB: heap === undefined ? undefined : heap / MB,
    tensors: tf.memory().numTensors,
    tensorMB: tf.memory().numBytes / MB,
  };
}

function input(n: number, d: number, label: string): tf.Tensor2D {
  return tf.tensor2d(normals(rngFor(20240601, 'bench', label), n * d), [n, d]);
}

/** Prefixes every name of a parameter-shaped record (for one .npz holding several vectors). */
function prefixed(p: Params, prefix: string): Params {
  return Object.fromEntries(Object.entries(p).map(([k, t]) => [`${prefix}${k}`, t]));
}

// ---------------------------------------------------------------------------------------- python
interface PythonChoice {
  cmd?: string;
  version?: string;
  tried: string[];
}

function findTorchPython(): PythonChoice {
  const candidates = [process.env.TANGENT_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c && c.trim()));
  const probe = [
    'import sys, torch, numpy',
    'try:\n    import torch.func as F\nexcept ImportError:\n    import functorch as F',
    'print(sys.executable, torch.__version__, F.__name__)',
  ].join('\n');
  const tried: string[] = [];
  for (const cmd of [...new Set(candidates)]) {
    const r = spawnSync(cmd, ['-c', probe], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return { cmd, version: r.stdout.trim(), tried };
    const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    tried.push(`${cmd}: ${why}`);
  }
  return { tried };
}

interface TorchOut {
  python: string;
  python_version: string;
  torch: string;
  func_api: string;
  threads_default: number;
  threads: number[];
  interop_threads: number;
  loadavg_start: number[];
  loadavg_end: number[];
  checks: Record<string, unknown>;
  timings: Record<string, Record<string, Timing>>;
  memory: Record<string, number | null>;
  values: Record<string, number>;
}

interface Diagnostics {
  /** Per library call: transposed products issued, by shape. */
  transposed: Record<string, Record<string, number>>;
  mmTransposed?: Timing;
  mmExplicit?: Timing;
  tanh?: Timing;
  tanhSigmoid?: Timing;
  /** Library calls rerun with transposed operands materialised (only when some were found). */
  whatIf: Record<string, Timing>;
}

// -------------------------------------------------------------------------------------------- main
async function main(): Promise<void> {
  const info: BackendInfo = await initBackend();
  const backend = describeBackend(info);
  let oursThreads = '';
  if (info.name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    oursThreads = `${wasm.getThreadsCount()} (wasm SIMD ${simd ? 'on' : 'off'}, multithreading ${mt ? 'on' : 'off: tfjs-backend-wasm disables it under Node'})`;
  } else if (info.name === 'node') {
    oursThreads = 'libtensorflow default intra-op pool (all cores)';
  } else {
    oursThreads = '1 (plain JavaScript)';
  }
  const torchThreads = Number(process.env.BENCH_TORCH_THREADS ?? CORES);
  const threadList = [...new Set([torchThreads, 1])];
  const load0 = os.loadavg();
  log(`tfjs backend: ${backend}; threads: ${oursThreads}`);
  log(`machine: ${CORES} cores (${os.cpus()[0]?.model ?? '?'}), load average ${load0.map((l) => l.toFixed(2)).join(' ')}${QUICK ? '; QUICK mode (sizes shrunk)' : ''}`);
  const py: PythonChoice = process.env.BENCH_TORCH === '0' ? { tried: ['BENCH_TORCH=0 (PyTorch side disabled)'] } : findTorchPython();
  log(py.cmd ? `PyTorch: ${py.cmd} -> ${py.version}` : `PyTorch not found; tried ${py.tried.join('; ')}`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tangent-bench-'));
  const ours: Record<string, Timing> = {};
  const oursMem: Record<string, ReturnType<typeof memNote>> = {};
  const oursValues: Record<string, number> = {};
  const torchCfg: Record<string, unknown> = {
    threads: threadList,
    repeats: CFG.repeats,
  };
  const diag: Diagnostics = { transposed: {}, whatIf: {} };
  const isWasm = info.name === 'wasm';
  /** Transposed products issued by one call (wasm only): lib/matmul.ts should leave none. */
  const countTransposed = (label: string, fn: () => void) => {
    if (!isWasm) return;
    const seen = countTransposedMatMuls(fn);
    diag.transposed[label] = seen;
    const total = Object.values(seen).reduce((x, y) => x + y, 0);
    log(`  transposed matMuls in one call of ${label}: ${total === 0 ? 'none' : JSON.stringify(seen)}`);
  };

  try {
    // --- NTK check (small): exported for the PyTorch-side comparison.
    {
      const { widths, n } = CFG.ntkCheck;
      const net = fcn({ widths, activation: 'relu' });
      const params = net.init(1);
      const x = input(n, widths[0], 'ntk-check');
      const K = tangentKernel(net, params, x, { method: 'layerwise' });
      const file = path.join(tmp, 'ntk_check.npz');
      saveParams(file, { ...params, x, K });
      torchCfg.ntkCheck = { npz: file };
      tf.dispose([K, x]);
      pv.dispose(params);
    }

    // --- 1. NTK of the width-1024 ReLU net.
    const ntkNet = fcn({ widths: CFG.ntk.widths, activation: 'relu' });
    const ntkParams = ntkNet.init(0);
    const nParams = pv.size(ntkParams);
    const xNtk = input(CFG.ntk.n, CFG.ntk.widths[0], 'ntk');
    const xJac = tf.slice(xNtk, [0, 0], [CFG.ntk.jacobianN, -1]);
    log(`NTK: widths [${CFG.ntk.widths}] (${nParams} params), n = ${CFG.ntk.n}, layer-wise path, warm-up + ${CFG.repeats.ntk}`);
    const K = tangentKernel(ntkNet, ntkParams, xNtk, { method: 'layerwise' });
    ours.ntk = timed('tangentKernel layerwise', () => tangentKernel(ntkNet, ntkParams, xNtk, { method: 'layerwise' }).dispose(), CFG.repeats.ntk);
    oursMem.ntk = memNote();
    countTransposed('NTK layer-wise', () => tangentKernel(ntkNet, ntkParams, xNtk, { method: 'layerwise' }).dispose());

    log(`NTK: jacobian path, n = ${CFG.ntk.jacobianN} (per-sample gradients; n = ${CFG.ntk.n} would hold ${((CFG.ntk.n * nParams * 4) / MB).toFixed(0)} MB of Jacobian rows), warm-up + ${CFG.repeats.ntk}`);
    const Kj = tangentKernel(ntkNet, ntkParams, xJac, { method: 'jacobian' });
    const Kl = tangentKernel(ntkNet, ntkParams, xJac, { method: 'layerwise' });
    oursValues.jacobianVsLayerwise = tf.tidy(() => tf.max(tf.abs(tf.sub(Kj, Kl))).dataSync()[0] / tf.max(tf.abs(Kl)).dataSync()[0]);
    const ntkFile = path.join(tmp, 'ntk.npz');
    saveParams(ntkFile, { ...ntkParams, x: xNtk, K, Kj });
    torchCfg.ntk = { npz: ntkFile, jacobianN: CFG.ntk.jacobianN };
    tf.dispose([Kj, Kl]);
    ours.ntkJacobian = timed('tangentKernel jacobian', () => tangentKernel(ntkNet, ntkParams, xJac, { method: 'jacobian' }).dispose(), CFG.repeats.ntk);
    oursMem.ntkJacobian = memNote();
    const xTwo = tf.slice(xNtk, [0, 0], [2, -1]);
    countTransposed('NTK jacobian (n = 2)', () => tangentKernel(ntkNet, ntkParams, xTwo, { method: 'jacobian' }).dispose());
    xTwo.dispose();

    if (isWasm) {
      log('diagnostic: wasm kernels (transposed matMul fallback, Tanh)');
      const a = input(CFG.ntk.n, CFG.ntk.widths[1], 'mm-a');
      const W = ntkParams.W2;
      const run = (f: () => tf.Tensor) => () => {
        const y = tf.tidy(f);
        y.dataSync();
        y.dispose();
      };
      diag.mmTransposed = timed('matMul(a, W, false, true)', run(() => tf.matMul(a, W, false, true)), CFG.repeats.small);
      diag.mmExplicit = timed('matMul(a, transpose(W))', run(() => tf.matMul(a, tf.transpose(W))), CFG.repeats.small);
      a.dispose();
      const z = input(CFG.hess.batches[CFG.hess.batches.length - 1], CFG.hess.widths[1], 'tanh-z');
      diag.tanh = timed(`tf.tanh [${z.shape}]`, run(() => tf.tanh(z)), CFG.repeats.small);
      diag.tanhSigmoid = timed(`2 sigmoid(2z) - 1 [${z.shape}]`, run(() => tf.sub(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2), 1)), CFG.repeats.small);
      z.dispose();
      // Only when the library still issues transposed products: what avoiding them would gain.
      if (Object.keys(diag.transposed['NTK layer-wise'] ?? {}).length > 0) {
        withExplicitTransposes(() => {
          diag.whatIf.ntk = timed('tangentKernel layerwise, explicit transposes', () => tangentKernel(ntkNet, ntkParams, xNtk, { method: 'layerwise' }).dispose(), CFG.repeats.ntk);
        });
      }
    }
    tf.dispose([K, xNtk, xJac]);
    pv.dispose(ntkParams);

    // --- 2-3. Hessian / HVP / Taylor on the tanh net.
    const hessNet: Network = fcn({ widths: CFG.hess.widths, activation: 'tanh' });
    const hessParams = hessNet.init(0);
    const names = Object.keys(hessParams);
    const start = randomDirection(hessParams, 0, names); // what hessianSpectralNorm starts from (seed 0)
    const dir = randomDirection(hessParams, 1, names);
    const cases: { label: string; npz: string; maxIter: number; oursLambda: number }[] = [];
    for (const n of CFG.hess.batches) {
      const label = `n${n}`;
      const x = input(n, CFG.hess.widths[0], `hess-${n}`);
      const what = n === 1 ? '1 input' : `${n} inputs, batch sum as output`;
      log(`Hessian: widths [${CFG.hess.widths}] (${pv.size(hessParams)} params), ${what}`);
      const hv = hvp(hessNet, hessParams, dir, x);
      const coefs = taylorCoefficients(hessNet, hessParams, dir, x, 3);
      ours[`hvp_${label}`] = timed('one hvp', () => pv.dispose(hvp(hessNet, hessParams, dir, x)), CFG.repeats.small);
      ours[`taylor_${label}`] = timed('taylorCoefficients k=3', () => tf.dispose(taylorCoefficients(hessNet, hessParams, dir, x, 3).map((c) => (c.dataSync(), c))), CFG.repeats.small);
      let res = hessianSpectralNorm(hessNet, hessParams, x, { method: 'power', maxIter: CFG.hess.maxIter, tol: 0 });
      ours[`power_${label}`] = timed(`hessianSpectralNorm power ${CFG.hess.maxIter} it`, () => {
        res = hessianSpectralNorm(hessNet, hessParams, x, { method: 'power', maxIter: CFG.hess.maxIter, tol: 0 });
      }, CFG.repeats.power);
      oursValues[`lambda_${label}`] = res.eigenvalues[0];
      oursMem[`hess_${label}`] = memNote();
      log(`  Rayleigh quotient after ${res.iterations} iterations: ${res.eigenvalues[0].toPrecision(6)}`);
      countTransposed(`hvp (n = ${n})`, () => pv.dispose(hvp(hessNet, hessParams, dir, x)));
      countTransposed(`taylorCoefficients (n = ${n})`, () => tf.dispose(taylorCoefficients(hessNet, hessParams, dir, x, 3)));
      if (isWasm && Object.keys(diag.transposed[`hvp (n = ${n})`] ?? {}).length > 0) {
        withExplicitTransposes(() => {
          diag.whatIf[`hvp_${label}`] = timed('one hvp, explicit transposes', () => pv.dispose(hvp(hessNet, hessParams, dir, x)), CFG.repeats.small);
        });
      }
      const file = path.join(tmp, `hess_${label}.npz`);
      const cs = Object.fromEntries(coefs.map((c, k) => [`c${k}`, c]));
      saveParams(file, { ...hessParams, x, ...prefixed(start, 'start_'), ...prefixed(dir, 'dir_'), ...prefixed(hv, 'hv_'), ...cs });
      cases.push({ label, npz: file, maxIter: CFG.hess.maxIter, oursLambda: res.eigenvalues[0] });
      pv.dispose(hv);
      tf.dispose([...coefs, x]);
    }
    torchCfg.hessian = cases;
    pv.dispose(hessParams);
    pv.dispose(start);
    pv.dispose(dir);
    log(`tfjs side done; live tensors ${tf.memory().numTensors}, rss ${(process.memoryUsage().rss / MB).toFixed(0)} MB`);

    // --- PyTorch, one subprocess.
    let torch: TorchOut | undefined;
    let torchNote = '';
    if (py.cmd) {
      const cfgFile = path.join(tmp, 'config.json');
      writeFileSync(cfgFile, JSON.stringify(torchCfg));
      log(`PyTorch: ${py.cmd} bench/torch_bench.py (threads ${threadList.join(' then ')})`);
      const r = spawnSync(py.cmd, [path.join(BENCH_DIR, 'torch_bench.py'), cfgFile], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 64 * MB,
        timeout: 20 * 60_000,
      });
      if (r.status === 0) {
        torch = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as TorchOut;
      } else {
        torchNote = `PyTorch run failed (${r.error?.message ?? `exit ${r.status}${r.signal ? `, ${r.signal}` : ''}`})`;
        log(torchNote);
      }
    } else {
      torchNote = process.env.BENCH_TORCH === '0' ? 'PyTorch skipped: BENCH_TORCH=0' : `PyTorch skipped: no interpreter imports torch (tried ${py.tried.join('; ')})`;
    }

    const report = render({ backend, oursThreads, threadList, load0, load1: os.loadavg(), ours, oursMem, oursValues, diag, torch, torchNote, nParams });
    process.stdout.write(`\n${report}\n`);
    if (QUICK) {
      log('QUICK mode: bench/results.md not written');
    } else {
      writeFileSync(path.join(BENCH_DIR, 'results.md'), report);
      log('wrote bench/results.md');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------ report
interface RenderArgs {
  backend: string;
  oursThreads: string;
  threadList: number[];
  load0: number[];
  load1: number[];
  ours: Record<string, Timing>;
  oursMem: Record<string, ReturnType<typeof memNote>>;
  oursValues: Record<string, number>;
  diag: Diagnostics;
  torch?: TorchOut;
  torchNote: string;
  nParams: number;
}

function render(a: RenderArgs): string {
  const { ours, torch, diag } = a;
  const [tMain, tOne] = a.threadList;
  const tt = (threads: number | undefined, key: string) => (threads === undefined ? undefined : torch?.timings[String(threads)]?.[key]?.median);
  const ratio = (t: number | undefined, o: number | undefined) => (t !== undefined && o !== undefined ? t / o : undefined);
  const fmtRatio = (r: number | undefined) => (r === undefined ? '—' : r >= 1 ? `**${r.toFixed(2)}x faster**` : `${(1 / r).toFixed(2)}x slower`);
  const { widths: nw, n: nn, jacobianN } = CFG.ntk;
  const hw = CFG.hess.widths;
  const it = CFG.hess.maxIter;
  const targets: string[] = [];

  type Row = { name: string; oursKey: string; torchKey: string; oursWhat: string; torchWhat: string; target?: { need: number; text: string } };
  const rows: Row[] = [
    {
      name: `Empirical NTK, ReLU FCN [${nw}], n = ${nn}`,
      oursKey: 'ntk',
      torchKey: 'ntk',
      oursWhat: '`tangentKernel` (layer-wise)',
      torchWhat: 'vmap(jacrev) + einsum',
      target: { need: 5, text: '≥ 5x faster' },
    },
    {
      name: `Empirical NTK, same net, n = ${jacobianN}`,
      oursKey: 'ntkJacobian',
      torchKey: 'ntk_jacobian_n',
      oursWhat: "`tangentKernel` `{method: 'jacobian'}`",
      torchWhat: 'vmap(jacrev) + einsum',
    },
  ];
  for (const n of CFG.hess.batches) {
    const label = `n${n}`;
    const what = n === 1 ? '1 input' : `n = ${n}, output summed`;
    rows.push(
      {
        name: `Hessian spectral norm, tanh [${hw}], ${what}: ${it} power iterations`,
        oursKey: `power_${label}`,
        torchKey: `power_${label}`,
        oursWhat: "`hessianSpectralNorm` `{method: 'power', tol: 0}`",
        torchWhat: `${it} x double-backward HVP`,
        target: { need: 0.5, text: 'within 2x' },
      },
      {
        name: `one HVP, tanh [${hw}], ${what}`,
        oursKey: `hvp_${label}`,
        torchKey: `hvp_${label}`,
        oursWhat: '`hvp`',
        torchWhat: 'double backward',
        target: { need: 0.5, text: 'within 2x' },
      },
      {
        name: `Taylor c0..c3 along one direction, tanh [${hw}], ${what}`,
        oursKey: `taylor_${label}`,
        torchKey: `taylor_${label}`,
        oursWhat: '`taylorCoefficients(.., 3)`',
        torchWhat: 'functorch.jvp nested 3x',
      },
    );
  }

  const L: string[] = [];
  const date = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const busy = Math.max(a.load0[0], a.load1[0], ...(torch ? [torch.loadavg_start[0], torch.loadavg_end[0]] : [])) > 0.75 * CORES;
  L.push('# Benchmark: tangent-lab vs PyTorch (CPU)', '');
  L.push(`Generated by \`npm run bench\` (bench/run.ts + bench/torch_bench.py) on ${date}. Overwritten by every run.`, '');
  L.push(`- Machine: ${CORES} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}.`);
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  L.push(
    `- Load average (1/5/15 min): tfjs side start ${la(a.load0)}${torch ? `; PyTorch side start ${la(torch.loadavg_start)}, end ${la(torch.loadavg_end)}` : `; end ${la(a.load1)}`}.` +
      (busy ? ' **Other work was running on the machine: timings are noisy, and multi-threaded PyTorch suffers most (its 2-thread times can exceed its 1-thread times).**' : ''),
  );
  L.push(`- tangent-lab: tfjs backend ${a.backend}; threads ${a.oursThreads}.`);
  if (torch) {
    L.push(
      `- PyTorch: ${torch.torch} (${torch.func_api}), Python ${torch.python_version} at \`${torch.python}\`; \`torch.set_num_threads(${tMain})\` (= the machine's cores, for fairness; default was ${torch.threads_default}), interop threads ${torch.interop_threads}. The last two columns repeat PyTorch with 1 thread, the thread count of the tfjs backend.`,
    );
  } else {
    L.push(`- PyTorch: ${a.torchNote}.`);
  }
  L.push(
    `- Wall time: median of ${CFG.repeats.ntk} (NTK), ${CFG.repeats.power} (power iteration) or ${CFG.repeats.small} (one HVP, Taylor) repeats after one warm-up call, results synchronised (\`dataSync\` / \`.item()\`). ` +
      'Same weights and inputs on both sides (ours exported with `saveParams`, loaded with numpy). Speed-up = PyTorch time / tangent-lab time (> 1: tangent-lab faster).',
    '',
  );

  L.push(`| benchmark | tangent-lab | PyTorch, ${tMain} threads | speed-up | target (vs ${tMain} threads; vs 1 thread) | PyTorch, 1 thread | speed-up vs 1 thread |`);
  L.push('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const o = ours[r.oursKey]?.median;
    const t = tt(tMain, r.torchKey);
    const t1 = tOne === undefined ? undefined : tt(tOne, r.torchKey);
    const s = ratio(t, o);
    const s1 = ratio(t1, o);
    let target = '—';
    if (r.target) {
      const verdict = (x: number | undefined) => (x === undefined ? 'not measured' : x >= r.target!.need ? 'met' : '**not met**');
      target = `${r.target.text}: ${verdict(s)} (${tMain} thr.)${tOne !== undefined ? `; ${verdict(s1)} (1 thr.)` : ''}`;
      targets.push(`${r.name}: ${target} (speed-up ${s?.toFixed(2) ?? '—'}${tOne !== undefined ? ` vs ${tMain} threads, ${s1?.toFixed(2) ?? '—'} vs 1 thread` : ''})`);
    }
    L.push(`| ${r.name} | ${fmtTime(o)} (${r.oursWhat}) | ${torch ? `${fmtTime(t)} (${r.torchWhat})` : 'skipped'} | ${fmtRatio(s)} | ${target} | ${fmtTime(t1)} | ${fmtRatio(s1)} |`);
  }
  if (torch && tOne !== undefined && tOne !== tMain) {
    const inverted = rows.filter((r) => (tt(tMain, r.torchKey) ?? 0) > (tt(tOne, r.torchKey) ?? Infinity));
    if (inverted.length > 0) {
      L.push(
        '',
        `PyTorch with ${tMain} threads was slower than with 1 thread in ${inverted.length} of ${rows.length} rows: OpenMP threads were competing with other processes for the ${CORES} cores, ` +
          'so in this run the 1-thread column is the more reliable comparison.',
      );
    }
  }
  if (torch) {
    const hf = CFG.hess.batches.map((n) => `${fmtTime(tt(tMain, `hvp_functional_n${n}`))} (n = ${n})`).join(', ');
    L.push('', `\`torch.autograd.functional.hvp\` (one call, ${tMain} threads): ${hf}; the table uses the explicit double backward, which is faster.`);
  }
  L.push('');

  // Correctness.
  L.push('## Same computation on both sides', '');
  L.push('| check | max \\|Δ\\| / max \\|reference\\| | max elementwise relative |', '|---|---|---|');
  if (torch) {
    const c = torch.checks as Record<string, any>;
    L.push(`| NTK vs PyTorch, ReLU [${CFG.ntkCheck.widths}], n = ${CFG.ntkCheck.n} (saveParams → numpy) | ${fmtSci(c.ntk_small?.normwise)} | ${fmtSci(c.ntk_small?.elementwise)} |`);
    L.push(`| NTK (layer-wise) vs PyTorch, ReLU [${nw}], n = ${nn} | ${fmtSci(c.ntk_full?.normwise)} | ${fmtSci(c.ntk_full?.elementwise)} |`);
    L.push(`| NTK (\`jacobian\`) vs PyTorch, same net, n = ${jacobianN} | ${fmtSci(c.ntk_jacobian?.normwise)} | ${fmtSci(c.ntk_jacobian?.elementwise)} |`);
    for (const n of CFG.hess.batches) {
      const l = `n${n}`;
      L.push(`| HVP vs PyTorch, tanh [${hw}], n = ${n} | ${fmtSci(c[`hvp_${l}`])} | |`);
      const tc = (c[`taylor_${l}`] as number[] | undefined) ?? [];
      L.push(`| Taylor c0 / c1 / c2 / c3 vs PyTorch, n = ${n} | ${tc.map(fmtSci).join(' / ')} | |`);
      L.push(`| Rayleigh quotient after ${it} power iterations from the same start vector, n = ${n}: ours ${a.oursValues[`lambda_${l}`]?.toPrecision(6)}, PyTorch ${torch.values[`lambda_${l}`]?.toPrecision(6)} | ${fmtSci(c[`lambda_${l}`])} | |`);
    }
  } else {
    L.push(`| comparisons with PyTorch | not run: ${a.torchNote} | |`);
  }
  L.push(`| ours: \`jacobian\` vs layer-wise kernel, n = ${jacobianN} | ${fmtSci(a.oursValues.jacobianVsLayerwise)} | |`);
  L.push('');

  // Diagnostics.
  if (diag.mmTransposed) {
    L.push('## wasm kernel diagnostics', '');
    L.push(
      'tfjs-backend-wasm 4.22 runs `BatchMatMul` on XNNPACK only when neither operand is transposed; with `transposeA`/`transposeB` it falls back to a naive triple loop ' +
        '(`slow_batch_matmul` in `tfjs-backend-wasm/src/cc/batch_mat_mul_impl.cc`). lib/matmul.ts materialises transposes on wasm instead; the counts below check that the benchmarked calls issue no transposed product.',
      '',
    );
    L.push('| kernel | time | alternative | time | ratio |', '|---|---|---|---|---|');
    const g = (x?: Timing, y?: Timing) => (x && y ? `${(x.median / y.median).toFixed(1)}x` : '—');
    L.push(`| \`matMul(a, W, false, true)\`, a [${nn},${nw[1]}], W [${nw[2]},${nw[1]}] | ${fmtTime(diag.mmTransposed.median)} | \`matMul(a, transpose(W))\` | ${fmtTime(diag.mmExplicit?.median)} | ${g(diag.mmTransposed, diag.mmExplicit)} |`);
    if (diag.tanh) {
      L.push(`| \`tf.tanh\` on [${CFG.hess.batches[CFG.hess.batches.length - 1]},${hw[1]}] (scalar kernel) | ${fmtTime(diag.tanh.median)} | \`2 sigmoid(2z) - 1\` (XNNPACK sigmoid) | ${fmtTime(diag.tanhSigmoid?.median)} | ${g(diag.tanh, diag.tanhSigmoid)} |`);
    }
    L.push('');
    const entries = Object.entries(diag.transposed);
    const fmtSeen = (s: Record<string, number>) => (Object.keys(s).length === 0 ? 'none' : Object.entries(s).map(([k, v]) => `${v} x ${k}`).join(', '));
    L.push(`Transposed products issued per call: ${entries.map(([k, s]) => `${k}: ${fmtSeen(s)}`).join('; ')}.`);
    const w = Object.entries(diag.whatIf);
    if (w.length > 0) {
      L.push('', `With those transposes materialised first (bench/wasm-matmul.ts): ${w.map(([k, t]) => `${k} ${fmtTime(t.median)} (as is ${fmtTime(ours[k]?.median)})`).join(', ')}.`);
    }
    L.push('');
  }

  // Memory.
  L.push('## Memory', '');
  const m = a.oursMem;
  const heap = (k: string) => (m[k]?.heapMB === undefined ? '' : `, wasm heap ${m[k].heapMB!.toFixed(0)} MB`);
  L.push(
    `- tangent-lab (one process, after each task; the wasm heap only grows, so it is the peak so far): after NTK layer-wise rss ${m.ntk?.rssMB.toFixed(0)} MB${heap('ntk')}; after NTK \`jacobian\` (n = ${jacobianN}) rss ${m.ntkJacobian?.rssMB.toFixed(0)} MB${heap('ntkJacobian')}; ` +
      CFG.hess.batches.map((n) => `after Hessian n = ${n} rss ${m[`hess_n${n}`]?.rssMB.toFixed(0)} MB${heap(`hess_n${n}`)}`).join('; ') + '.',
  );
  const leaks = Object.entries(ours).filter(([, t]) => t.leakedPerCall !== 0);
  L.push(
    leaks.length === 0
      ? '- Tensor leaks (`tf.memory().numTensors` before/after the repeats): none.'
      : `- Tensor leaks (\`tf.memory().numTensors\` before/after the repeats): ${leaks.map(([k, t]) => `${k}: ${t.leakedPerCall} tensors per call`).join('; ')}; everything else: none.`,
  );
  L.push(`- The layer-wise NTK never forms J: its extra memory is the layer inputs and backpropagated vectors, O(n · width) per layer. The \`jacobian\` path holds n rows of ${a.nParams} parameters (${((jacobianN * a.nParams * 4) / MB).toFixed(0)} MB at n = ${jacobianN}, ${((nn * a.nParams * 4) / MB).toFixed(0)} MB at n = ${nn}, plus the stacked copy), so it runs at n = ${jacobianN}.`);
  if (torch) {
    const tm = torch.memory;
    L.push(
      `- PyTorch (peak RSS of the Python process so far): after the NTK ${tm.ntk_peak_rss_mb?.toFixed(0)} MB (the vmap(jacrev) Jacobian alone is ${tm.ntk_jacobian_mb?.toFixed(0)} MB at n = ${nn}); ` +
        CFG.hess.batches.map((n) => `after Hessian n = ${n} ${tm[`hessian_n${n}_peak_rss_mb`]?.toFixed(0)} MB`).join('; ') + '.',
    );
  }
  L.push('');

  L.push('## Targets', '');
  for (const t of targets) L.push(`- ${t}`);
  L.push('');
  L.push('## Method notes', '');
  L.push(
    `- Model: z_l = a W_l^T / sqrt(fan_in), W ~ N(0, 1) (NTK parameterization), no biases, linear output. NTK: ReLU; Hessian and Taylor: tanh, d = ${hw[0]}. ` +
      'For n = 1 the Hessian is that of the scalar f(x); for n > 1 it is the Hessian of sum_i f(x_i) (`u` = ones in lib/hessian.ts).',
    '- PyTorch NTK: the functorch tutorial Jacobian-contraction recipe (vmap(jacrev(fnet_single), (None, 0)), einsum over flattened Jacobians, summed over parameters); since x1 = x2 the Jacobian is computed once (the two-argument form would compute it twice).',
    `- Power iteration: both sides run the iteration of lib/hessian.ts from the same start vector (\`randomDirection(params, 0)\`), ${it} iterations, tol = 0, each iteration one HVP plus two reductions read back to the host.`,
    '- HVP in PyTorch: `torch.autograd.grad(f, w, create_graph=True)` then `torch.autograd.grad(g, w, grad_outputs=v)`; ours: reverse mode over the order-1 Taylor jet (`hvp` in lib/derivatives.ts).',
    '- Taylor coefficients: ours propagate truncated Taylor polynomials (one forward pass of order-3 jets); PyTorch 1.13 has no Taylor mode, so functorch.jvp is nested three times (2^3 tangent paths), c_k = D^k f[v,...,v] / k!.',
  );
  return `${L.join('\n')}\n`;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
