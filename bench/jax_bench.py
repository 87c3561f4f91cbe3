#!/usr/bin/env python3
"""JAX side of `npm run bench` (bench/run.ts), called once per run as

    python jax_bench.py CONFIG.json

CONFIG is the file bench/run.ts writes for torch_bench.py (the .npz files of tangent-lab's parameters,
inputs and results). Everything is jit-compiled; timings exclude compilation (one warm-up call) and wait
for the result (block_until_ready). Prints one JSON object on stdout; progress goes to stderr.

Recipes (same algorithms as tangent-lab, written in JAX):
- empirical NTK, layer-wise: K = sum_l (A_{l-1} A_{l-1}^T / fan_in) * (B_l B_l^T), with A the layer inputs and
  B the back-propagated output gradients at the pre-activations (no Jacobian is formed);
- HVP: jax.jvp(jax.grad(f)) (forward over reverse); 50 power iterations inside lax.fori_loop, the iteration
  of lib/analysis/hessian.ts (Rayleigh quotient <v, Hv>, v <- Hv / |Hv|) from the same start vector;
- Taylor coefficients c0..c3 along a direction: jax.experimental.jet (derivative convention: c_k = out_k / k!);
- 20 full-batch GD steps of an MSE-mean loss (lib/analysis/losses.ts mse('mean'): (1/n) sum_i |f_i - y_i|^2).
"""
import json
import math
import os
import platform
import sys
import time

import numpy as np

import jax
import jax.numpy as jnp
from jax.experimental import jet

jax.config.update('jax_platforms', 'cpu')


def log(msg):
    print(f'[jax] {msg}', file=sys.stderr, flush=True)


# Set from the bench's config: every side warms up for as long before it is timed (bench/run.ts, WARMUP_SECONDS).
WARMUP_SECONDS = 1.0


def timed(fn, repeats, warmup=1):
    """Median wall time (s) of `repeats` calls after `warmup` calls and WARMUP_SECONDS of calls (the steady state)."""
    calls = 0
    t_start = time.perf_counter()
    while calls < warmup or time.perf_counter() - t_start < WARMUP_SECONDS:
        jax.block_until_ready(fn())
        calls += 1
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    s = sorted(times)
    return {'median': s[len(s) // 2], 'times': times}


def load(path):
    with np.load(path) as z:
        return {k: jnp.asarray(np.ascontiguousarray(z[k], dtype=np.float32)) for k in z.files}


def layer_names(arrays, prefix=''):
    ks = [k[len(prefix):] for k in arrays if k.startswith(prefix + 'W') and k[len(prefix) + 1:].isdigit()]
    return sorted(ks, key=lambda k: int(k[1:]))


def fcn_apply(Ws, x, act):
    """NTK parameterization, no bias: z_l = a W_l^T / sqrt(fan_in), act between layers, linear output."""
    a = x
    for l, W in enumerate(Ws):
        a = (a @ W.T) * (1.0 / math.sqrt(W.shape[1]))
        if l < len(Ws) - 1:
            a = act(a)
    return a


def rel(a, b):
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def tree_rel(a, b):
    num = max(float(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)).max()) for x, y in zip(a, b))
    den = max(float(np.abs(np.asarray(y, np.float64)).max()) for y in b)
    return num / den


# ---------------------------------------------------------------------------------------------- NTK
@jax.jit
def ntk_layerwise(Ws, x):
    """Layer-wise empirical NTK of a scalar-output ReLU FCN: K = sum_l (A A^T / fan_in) * (B B^T)."""
    acts = [x]
    zs = []
    a = x
    for l, W in enumerate(Ws):
        z = (a @ W.T) * (1.0 / math.sqrt(W.shape[1]))
        zs.append(z)
        a = jax.nn.relu(z) if l < len(Ws) - 1 else z
        acts.append(a)
    n = x.shape[0]
    B = jnp.ones((n, 1), x.dtype)  # d f / d z_L
    K = jnp.zeros((n, n), x.dtype)
    for l in range(len(Ws) - 1, -1, -1):
        A = acts[l]
        K = K + ((A @ A.T) / A.shape[1]) * (B @ B.T)
        if l > 0:
            B = ((B @ Ws[l]) * (1.0 / math.sqrt(Ws[l].shape[1]))) * (zs[l - 1] > 0)
    return K


# --------------------------------------------------------------------------------- HVP / Hessian
def hessian_problem(Ws, x):
    def scalar(ps):  # <u, f> with u = ones: the Hessian of sum_i f(x_i)
        return fcn_apply(ps, x, jnp.tanh).sum()

    @jax.jit
    def hvp(ps, v):
        return jax.jvp(jax.grad(scalar), (ps,), (v,))[1]

    def dot(p, q):
        return sum(jnp.vdot(s, t) for s, t in zip(p, q))

    @jax.jit
    def power(ps, start):
        nrm = jnp.sqrt(dot(start, start))
        v0 = [s / nrm for s in start]

        def body(_, carry):
            v, _lam = carry
            w = jax.jvp(jax.grad(scalar), (ps,), (v,))[1]
            lam = dot(v, w)
            norm = jnp.sqrt(dot(w, w))
            return [t / norm for t in w], lam

        _, lam = jax.lax.fori_loop(0, 50, body, (v0, jnp.float32(0)))
        return lam

    @jax.jit
    def taylor(ps, d):
        def f(*p):
            return fcn_apply(p, x, jnp.tanh)

        zeros = [jnp.zeros_like(t) for t in d]
        primal, series = jet.jet(f, tuple(ps), tuple((t, z, z) for t, z in zip(d, zeros)))
        return [primal, series[0], series[1] / 2, series[2] / 6]

    return hvp, power, taylor


# ------------------------------------------------------------------------------------------ GD steps
def gd_problem(Ws, x, y, lr, steps):
    def loss(ps):
        r = fcn_apply(ps, x, jax.nn.relu) - y
        return jnp.sum(r * r) / x.shape[0]

    @jax.jit
    def run(ps):
        # Returns the loss at the last step, before its update (as lib/train/train.ts's finalLoss).
        def body(_, carry):
            p, _last = carry
            value, g = jax.value_and_grad(loss)(p)
            return [w - lr * gw for w, gw in zip(p, g)], value

        _, last = jax.lax.fori_loop(0, steps, body, (list(ps), jnp.float32(0)))
        return last

    return run


# --------------------------------------------------------------------------------------------- main
def main():
    cfg = json.load(open(sys.argv[1]))
    reps = cfg['repeats']
    global WARMUP_SECONDS
    WARMUP_SECONDS = float(cfg.get('warmupSeconds', WARMUP_SECONDS))
    out = {
        'python': sys.executable,
        'python_version': platform.python_version(),
        'jax': jax.__version__,
        'jaxlib': getattr(__import__('jaxlib'), '__version__', '?'),
        'devices': [str(d) for d in jax.devices()],
        'xla_flags': os.environ.get('XLA_FLAGS', ''),
        'loadavg_start': os.getloadavg(),
        'checks': {},
        'timings': {},
        'values': {},
    }
    t = out['timings']

    a = load(cfg['ntkCheck']['npz'])
    Ws = [a[k] for k in layer_names(a)]
    out['checks']['ntk_small'] = rel(ntk_layerwise(Ws, a['x']), a['K'])

    a = load(cfg['ntk']['npz'])
    Ws = [a[k] for k in layer_names(a)]
    log(f'NTK n={a["x"].shape[0]}: warm-up (compile) + {reps["ntk"]}')
    out['checks']['ntk_full'] = rel(ntk_layerwise(Ws, a['x']), a['K'])
    t['ntk'] = timed(lambda: ntk_layerwise(Ws, a['x']), reps['ntk'])
    del a, Ws

    for case in cfg['hessian']:
        label = case['label']
        a = load(case['npz'])
        names = layer_names(a)
        Ws = [a[k] for k in names]
        start = [a['start_' + k] for k in names]
        d = [a['dir_' + k] for k in names]
        hvp, power, taylor = hessian_problem(Ws, a['x'])
        log(f'Hessian {label}: HVP, {case["maxIter"]} power iterations, Taylor')
        out['checks'][f'hvp_{label}'] = tree_rel(hvp(Ws, d), [a['hv_' + k] for k in names])
        cs = taylor(Ws, d)
        out['checks'][f'taylor_{label}'] = [rel(c, a[f'c{k}']) for k, c in enumerate(cs)]
        lam = float(power(Ws, start))
        out['values'][f'lambda_{label}'] = lam
        out['checks'][f'lambda_{label}'] = abs(lam - case['oursLambda']) / max(abs(lam), 1e-30)
        t[f'hvp_{label}'] = timed(lambda: hvp(Ws, d), reps['small'])
        t[f'power_{label}'] = timed(lambda: power(Ws, start), reps['power'])
        t[f'taylor_{label}'] = timed(lambda: taylor(Ws, d), reps['small'])
        del a

    if 'gd' in cfg:
        g = cfg['gd']
        a = load(g['npz'])
        Ws = [a[k] for k in layer_names(a)]
        run = gd_problem(Ws, a['x'], a['y'], g['lr'], g['steps'])
        log(f'GD: {g["steps"]} steps, warm-up (compile) + {reps["gd"]}')
        final = float(run(Ws))
        out['values']['gd_final_loss'] = final
        out['checks']['gd_final_loss'] = abs(final - g['oursFinalLoss']) / max(abs(g['oursFinalLoss']), 1e-30)
        t['gd'] = timed(lambda: run(Ws), reps['gd'])

    out['loadavg_end'] = os.getloadavg()
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
