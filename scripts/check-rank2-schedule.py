#!/usr/bin/env python3
"""Independent numpy check of the thesis' rank-2 raise schedule (003 Fig 4.8 (a), T:L3455-3461).

A numpy replica, not the library: 2-layer bias-free NTK-parameterized ReLU net f(x) = v . relu(W x / sqrt(d)) / sqrt(m),
W, v ~ N(0, 1), m = 1024, d = 100, n = 2000, y = x1 x2 + N(0, 0.1^2), GD on (1/n) sum (f - y)^2 at eta_crit(0)/2 with the
raises to [8, 16, 30, 50, 75, 80]/6.1 eta_crit(0) at steps [50, 150, 220, 280, 350, 400]. At each raise it prints
lambda_max(K) and the new rate over the current critical rate n/lambda_max. Each seed runs in float64 and float32.

    python3 scripts/check-rank2-schedule.py [seeds]      (numpy; about a minute per run on one core)

Used in docs/paper-profile.md to tell whether the library's divergence at the third raise is its own.
"""
import sys

import numpy as np
def run(seed, dtype, n=2000, d=100, m=1024, steps=600):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X[:, 0] * X[:, 1] + 0.1 * rng.standard_normal(n)).astype(dtype)
    W = rng.standard_normal((m, d)).astype(dtype)
    v = rng.standard_normal(m).astype(dtype)
    def fwd(W, v):
        Z = X @ W.T / np.sqrt(d)
        A = np.maximum(Z, 0)
        return Z, A, A @ v / np.sqrt(m)
    def lam(W, v):
        Z, A, _ = fwd(W, v)
        S = (Z > 0).astype(dtype)
        K = (A @ A.T + (X @ X.T / d) * ((S * v**2) @ S.T)) / m
        return np.linalg.eigvalsh(K.astype(np.float64))[-1]
    l0 = lam(W, v); eta0 = n / l0
    at = [50, 150, 220, 280, 350, 400]; vals = [8, 16, 30, 50, 75, 80]
    lr = eta0 / 2
    out = [f'seed {seed} {np.dtype(dtype).name}: eta_crit0 {eta0:.3f}']
    for t in range(steps):
        if t in at:
            lamt = lam(W, v)
            lr = vals[at.index(t)] / 6.1 * eta0
            out.append(f'  raise at {t}: lr {lr:.2f}, lam {lamt:.1f}, n/lam {n/lamt:.2f}, lr/(n/lam) {lr*lamt/n:.2f}')
        Z, A, f = fwd(W, v)
        r = f - y
        L = np.mean(r**2)
        if not np.isfinite(L) or L > 1e6:
            out.append(f'  diverged at {t}'); break
        if L < 1e-3:
            out.append(f'  converged at {t}, lam {lam(W, v):.1f}'); break
        g = 2 * r / n
        gv = A.T @ g / np.sqrt(m)
        S = (Z > 0).astype(dtype)
        gW = ((S * v[None, :]) * g[:, None]).T @ X / np.sqrt(m * d)
        v = v - lr * gv; W = W - lr * gW
    else:
        out.append(f'  max steps, loss {L:.3e}')
    print('\n'.join(out), flush=True)
for seed in range(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
    for dt in (np.float64, np.float32):
        run(seed, dt)
