#!/usr/bin/env python3
"""PyTorch side of `npm run bench` (bench/run.ts): called once per run as

    python torch_bench.py CONFIG.json

CONFIG names .npz files written by run.ts with tangent-lab's parameters, inputs and results
(lib/npz.ts saveParams: float32 arrays keyed by name). This script times the PyTorch recipes on the
same weights and inputs, checks that both sides compute the same quantities, and prints one JSON object
on stdout. Progress goes to stderr.

bench/run.ts runs this script once per thread count (config `threads` = [t]) with OMP_NUM_THREADS,
MKL_NUM_THREADS and OPENBLAS_NUM_THREADS set to t as well, so that "1 thread" is one thread in every library.

Recipes (torch 1.13 + functorch; torch.func is used instead when it exists, i.e. torch >= 2.0):
- empirical NTK: the functorch tutorial "Jacobian contraction" recipe,
  jac = vmap(jacrev(fnet_single), (None, 0))(params, x); K = sum over params of
  einsum('Naf,Mbf->NMab', jac, jac) on flattened Jacobians. As x1 = x2 the Jacobian is computed once
  (the tutorial's two-argument form computes it twice, which would double PyTorch's time).
- Hessian-vector product: double backward (torch.autograd.grad with create_graph=True, then
  grad of <grad, v>); torch.autograd.functional.hvp is timed too, for one call.
- Hessian spectral norm: 50 power iterations on double-backward HVPs, the same iteration as
  lib/hessian.ts (same start vector, Rayleigh quotient, normalisation; tol = 0).
- Taylor coefficients c0..c3 of t -> f(w + t v; x): functorch.jvp nested three times (torch 1.13
  has no Taylor-mode / jet transform), c_k = D^k f[v,..,v] / k!.
- GD: full-batch steps on the MSE-mean loss, torch.autograd.grad and in-place updates (eager).
"""
import json
import math
import os
import platform
import resource
import sys
import time

import numpy as np
import torch

try:  # torch >= 2.0
    from torch.func import jacrev, jvp, vmap
    FUNC_API = 'torch.func'
except ImportError:  # torch 1.13: functorch
    from functorch import jacrev, jvp, vmap
    FUNC_API = 'functorch'


def log(msg):
    print(f'[torch] {msg}', file=sys.stderr, flush=True)


def peak_rss_mb():
    # ru_maxrss is in KiB on Linux: the peak so far for this process.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb():
    try:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
    except OSError:
        return None


# Set from the bench's config: every side warms up for as long before it is timed (bench/run.ts, WARMUP_SECONDS).
WARMUP_SECONDS = 1.0


def timed(fn, repeats, warmup=1):
    """Median wall time (s) of `repeats` calls after `warmup` calls and WARMUP_SECONDS of calls (the steady state)."""
    calls = 0
    t_start = time.perf_counter()
    while calls < warmup or time.perf_counter() - t_start < WARMUP_SECONDS:
        fn()
        calls += 1
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    s = sorted(times)
    return {'median': s[len(s) // 2], 'times': times}


def load(path):
    with np.load(path) as z:
        return {k: torch.from_numpy(np.ascontiguousarray(z[k], dtype=np.float32)) for k in z.files}


def layer_names(arrays):
    ws = sorted((k for k in arrays if k[0] == 'W' and k[1:].isdigit()), key=lambda k: int(k[1:]))
    return ws


def fcn_apply(Ws, x, act):
    """NTK parameterization, no bias: z_l = a W_l^T / sqrt(fan_in), act between layers, linear output."""
    a = x
    L = len(Ws)
    for l, W in enumerate(Ws):
        a = (a @ W.T) * (1.0 / math.sqrt(W.shape[1]))
        if l < L - 1:
            a = act(a)
    return a


def max_rel(a, b):
    """(max |a-b| / max |b|, max elementwise |a-b| / |b|) in float64."""
    a = a.double().reshape(-1)
    b = b.double().reshape(-1)
    d = (a - b).abs()
    normwise = (d.max() / b.abs().max()).item()
    elementwise = (d / b.abs().clamp_min(1e-30)).max().item()
    return {'normwise': normwise, 'elementwise': elementwise}


def params_max_rel(a, b):
    num = max((x - y).abs().max().item() for x, y in zip(a, b))
    den = max(y.abs().max().item() for y in b)
    return num / den


# ---------------------------------------------------------------------------------------------- NTK
def ntk_recipe(params, x):
    def fnet_single(p, xi):
        return fcn_apply(p, xi.unsqueeze(0), torch.relu).squeeze(0)

    jac = vmap(jacrev(fnet_single), (None, 0))(params, x)
    jac = [j.flatten(2) for j in jac]
    K = torch.stack([torch.einsum('Naf,Mbf->NMab', j, j) for j in jac]).sum(0)
    n, _, c, _ = K.shape
    return K.permute(0, 2, 1, 3).reshape(n * c, n * c)  # rows i*C + c, as lib/ntk.ts


def ntk_check(cfg):
    a = load(cfg['npz'])
    Ws = tuple(a[k] for k in layer_names(a))
    K = ntk_recipe(Ws, a['x'])
    return max_rel(a['K'], K)


# --------------------------------------------------------------------------------- HVP / Hessian
def tanh_problem(a):
    Ws = [a[k] for k in layer_names(a)]
    x = a['x']
    leaves = [w.clone().requires_grad_() for w in Ws]

    def scalar(ps):  # <u, f> with u = ones: the Hessian of sum_i f(x_i) (of f(x) for one input)
        return fcn_apply(ps, x, torch.tanh).sum()

    def hvp(v):
        g = torch.autograd.grad(scalar(leaves), leaves, create_graph=True)
        return torch.autograd.grad(g, leaves, grad_outputs=v)

    def hvp_functional(v):
        return torch.autograd.functional.hvp(lambda *ps: scalar(ps), tuple(Ws), tuple(v))[1]

    def power(start, iters):
        def dot(p, q):
            return sum((s * t).sum() for s, t in zip(p, q)).item()

        nrm = math.sqrt(dot(start, start))
        v = [s / nrm for s in start]
        lam = 0.0
        for _ in range(iters):
            w = hvp(v)
            rayleigh = dot(v, w)
            norm = math.sqrt(dot(w, w))
            v = [t / norm for t in w]
            lam = rayleigh
        return lam

    def taylor(direction):
        def f0(*ps):
            return fcn_apply(ps, x, torch.tanh)

        def f1(*ps):
            return jvp(f0, ps, direction)

        def f2(*ps):
            return jvp(f1, ps, direction)

        def f3(*ps):
            return jvp(f2, ps, direction)

        ((c0, d1), (_, d2)), ((_, _), (_, d3)) = f3(*Ws)
        return [c0, d1, d2 / 2, d3 / 6]

    return Ws, hvp, hvp_functional, power, taylor


def gd_problem(a, lr, steps):
    """Full-batch GD on the MSE-mean loss (1/n) sum_i |f_i - y_i|^2 of a ReLU FCN (lib/analysis/losses.ts mse('mean'))."""
    Ws0 = [a[k] for k in layer_names(a)]
    x, y = a['x'], a['y']

    def run():
        """Returns the loss at the last step, before its update (as lib/train/train.ts's finalLoss)."""
        ps = [w.clone().requires_grad_() for w in Ws0]
        last = float('nan')
        for _ in range(steps):
            r = fcn_apply(ps, x, torch.relu) - y
            loss = (r * r).sum() / x.shape[0]
            gs = torch.autograd.grad(loss, ps)
            last = loss.item()
            with torch.no_grad():
                for p, g in zip(ps, gs):
                    p.sub_(lr * g)
        return last

    return run


def pick(a, prefix, names):
    return [a[prefix + k] for k in names]


# --------------------------------------------------------------------------------------------- main
def main():
    cfg = json.load(open(sys.argv[1]))
    threads_default = torch.get_num_threads()
    thread_counts = cfg['threads']  # first = headline
    reps = cfg['repeats']
    global WARMUP_SECONDS
    WARMUP_SECONDS = float(cfg.get('warmupSeconds', WARMUP_SECONDS))
    out = {
        'python': sys.executable,
        'python_version': platform.python_version(),
        'torch': torch.__version__,
        'numpy': np.__version__,
        'func_api': FUNC_API,
        'threads_default': threads_default,
        'threads': thread_counts,
        'interop_threads': torch.get_num_interop_threads(),
        'cpus': os.cpu_count(),
        'loadavg_start': os.getloadavg(),
        'checks': {},
        'timings': {str(t): {} for t in thread_counts},
        'memory': {},
        'values': {},
    }
    torch.manual_seed(0)

    torch.set_num_threads(thread_counts[0])
    log(f'torch {torch.__version__} ({FUNC_API}), default threads {threads_default}; NTK check on the small net')
    out['checks']['ntk_small'] = ntk_check(cfg['ntkCheck'])

    # NTK, full size, and the Jacobian-size case for our `jacobian` path.
    a = load(cfg['ntk']['npz'])
    Ws = tuple(a[k] for k in layer_names(a))
    x = a['x']
    xj = x[: cfg['ntk'].get('jacobianN', 0)]
    nparams = sum(w.numel() for w in Ws)
    out['values']['ntk_params'] = nparams
    for t in thread_counts:
        torch.set_num_threads(t)
        log(f'NTK n={x.shape[0]} ({t} thread{"s" if t > 1 else ""}), warm-up + {reps["ntk"]} repeats')
        holder = {}

        def run_ntk():
            holder['K'] = ntk_recipe(Ws, x)

        out['timings'][str(t)]['ntk'] = timed(run_ntk, reps['ntk'])
        if t == thread_counts[0]:
            out['checks']['ntk_full'] = max_rel(a['K'], holder['K'])
            out['memory']['ntk_peak_rss_mb'] = peak_rss_mb()
            out['memory']['ntk_jacobian_mb'] = x.shape[0] * nparams * 4 / 2**20
        del holder
        if xj.shape[0] == 0:
            continue
        log(f'NTK n={xj.shape[0]} ({t} thread{"s" if t > 1 else ""})')
        out['timings'][str(t)]['ntk_jacobian_n'] = timed(lambda: ntk_recipe(Ws, xj), reps['ntk'])
        if t == thread_counts[0] and 'Kj' in a:
            out['checks']['ntk_jacobian'] = max_rel(a['Kj'], ntk_recipe(Ws, xj))
    del a, Ws, x, xj

    # Hessian / HVP / Taylor on the tanh net, one entry per input batch size.
    for case in cfg['hessian']:
        label = case['label']
        a = load(case['npz'])
        names = layer_names(a)
        Ws, hvp, hvp_functional, power, taylor = tanh_problem(a)
        start = pick(a, 'start_', names)
        direction = tuple(pick(a, 'dir_', names))
        torch.set_num_threads(thread_counts[0])
        hv = hvp(list(direction))
        out['checks'][f'hvp_{label}'] = params_max_rel(hv, pick(a, 'hv_', names))
        coefs = taylor(direction)
        out['checks'][f'taylor_{label}'] = [max_rel(a[f'c{k}'], c)['normwise'] for k, c in enumerate(coefs)]
        iters = case['maxIter']
        lam = power(start, iters)
        out['values'][f'lambda_{label}'] = lam
        out['checks'][f'lambda_{label}'] = abs(lam - case['oursLambda']) / max(abs(lam), 1e-30)
        for t in thread_counts:
            torch.set_num_threads(t)
            tt = out['timings'][str(t)]
            log(f'Hessian {label} ({t} thread{"s" if t > 1 else ""}): {iters} power iterations, HVP, Taylor')
            tt[f'power_{label}'] = timed(lambda: power(start, iters), reps['power'])
            tt[f'hvp_{label}'] = timed(lambda: hvp(list(direction)), reps['small'])
            tt[f'hvp_functional_{label}'] = timed(lambda: hvp_functional(list(direction)), reps['small'])
            tt[f'taylor_{label}'] = timed(lambda: taylor(direction), reps['small'])
        out['memory'][f'hessian_{label}_peak_rss_mb'] = peak_rss_mb()
        del a, Ws, hvp, hvp_functional, power, taylor

    if 'gd' in cfg:
        g = cfg['gd']
        run = gd_problem(load(g['npz']), g['lr'], g['steps'])
        torch.set_num_threads(thread_counts[0])
        final = run()
        out['values']['gd_final_loss'] = final
        out['checks']['gd_final_loss'] = abs(final - g['oursFinalLoss']) / max(abs(g['oursFinalLoss']), 1e-30)
        for t in thread_counts:
            torch.set_num_threads(t)
            log(f'GD ({t} thread{"s" if t > 1 else ""}): {g["steps"]} steps, warm-up + {reps["gd"]}')
            out['timings'][str(t)]['gd'] = timed(run, reps['gd'])

    out['memory']['final_rss_mb'] = rss_mb()
    out['memory']['peak_rss_mb'] = peak_rss_mb()
    out['loadavg_end'] = os.getloadavg()
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
