#!/usr/bin/env python3
"""Reference optima for the accuracy tests, from an interior-point QP solver (cvxopt), independent
of subgrad's solvers.

Objective (liblinear's, no bias): ½‖W‖² + C·Σᵢ lossᵢ on the raw features of the embedded data.
- one-vs-rest: the sum over classes k of min ½‖w‖² + C·Σᵢ ℓ(yᵢ·w·xᵢ), yᵢ = +1 for class k, −1 else,
  ℓ(z) = max(0, 1 − z) (hinge) or max(0, 1 − z)² (squared hinge);
- Crammer–Singer: min ½Σₘ‖wₘ‖² + C·Σᵢ ξᵢ (or ξᵢ²), ξᵢ = max(0, max_{m≠yᵢ} 1 + wₘ·xᵢ − w_yᵢ·xᵢ).

Each value printed is the objective recomputed from the solver's weights (an upper bound on the
optimum), with the duality gap the solver closed beside it.

    pip install cvxopt numpy && python3 bench/reference_optima.py
"""

import sys

import numpy as np
from cvxopt import matrix, solvers, spmatrix

solvers.options.update(abstol=1e-13, reltol=1e-13, feastol=1e-12, maxiters=300, show_progress=False)


def read_libsvm(path):
    labels, rows = [], []
    d = 0
    for line in open(path):
        parts = line.split()
        if not parts:
            continue
        labels.append(float(parts[0]))
        row = {}
        for item in parts[1:]:
            j, v = item.split(":")
            row[int(j) - 1] = float(v)
            d = max(d, int(j))
        rows.append(row)
    x = np.zeros((len(rows), d))
    for i, row in enumerate(rows):
        for j, v in row.items():
            x[i, j] = v
    return x, np.array(labels)


def binary(x, y, c, squared):
    """min ½‖w‖² + C·Σ ξ (or ξ²) s.t. yᵢ·w·xᵢ ≥ 1 − ξᵢ, ξ ≥ 0; variables (w, ξ)."""
    n, d = x.shape
    p = np.zeros((d + n, d + n))
    p[:d, :d] = np.eye(d)
    q = np.zeros(d + n)
    if squared:
        p[d:, d:] = 2 * c * np.eye(n)
    else:
        q[d:] = c
    g = np.zeros((2 * n, d + n))
    g[:n, :d] = -y[:, None] * x
    g[:n, d:] = -np.eye(n)
    g[n:, d:] = -np.eye(n)
    h = np.concatenate([-np.ones(n), np.zeros(n)])
    s = solvers.qp(matrix(p), matrix(q), matrix(g), matrix(h))
    w = np.array(s["x"]).ravel()[:d]
    z = np.maximum(0.0, 1.0 - y * (x @ w))
    loss = (z**2).sum() if squared else z.sum()
    return 0.5 * w @ w + c * loss, s["gap"], s["status"]


def crammer_singer(x, labels, c, squared):
    """The Crammer–Singer primal as a sparse QP in (W, ξ), W class-major."""
    n, d = x.shape
    classes = sorted(set(labels))
    k = len(classes)
    yi = np.array([classes.index(l) for l in labels])
    nv = k * d + n
    pv, pi = [], []
    for j in range(k * d):
        pv.append(1.0), pi.append(j)
    q = np.zeros(nv)
    if squared:
        for i in range(n):
            pv.append(2 * c), pi.append(int(k * d + i))
    else:
        q[k * d :] = c
    p = spmatrix(pv, pi, pi, (nv, nv))
    gv, gi, gj, h = [], [], [], []
    row = 0
    for i in range(n):
        for m in range(k):
            if m == yi[i]:
                continue
            # (w_m − w_y)·xᵢ − ξᵢ ≤ −1
            for j in np.nonzero(x[i])[0]:
                gv += [float(x[i, j]), -float(x[i, j])]
                gi += [row, row]
                gj += [int(m * d + j), int(yi[i] * d + j)]
            gv.append(-1.0), gi.append(row), gj.append(int(k * d + i))
            h.append(-1.0)
            row += 1
        gv.append(-1.0), gi.append(row), gj.append(int(k * d + i))
        h.append(0.0)
        row += 1
    g = spmatrix(gv, gi, gj, (row, nv))
    s = solvers.qp(p, matrix(q), g, matrix(h))
    w = np.array(s["x"]).ravel()[: k * d].reshape(k, d)
    scores = x @ w.T
    own = scores[np.arange(n), yi]
    viol = 1.0 + scores - own[:, None]
    viol[np.arange(n), yi] = 0.0
    xi = np.maximum(0.0, viol.max(axis=1))
    loss = (xi**2).sum() if squared else xi.sum()
    return 0.5 * (w * w).sum() + c * loss, s["gap"], s["status"]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "crates/svm/data"
    sets = {name: read_libsvm(f"{root}/{name}.libsvm") for name in ["iris", "digits"]}
    for name, (x, labels) in sets.items():
        for squared in [False, True]:
            loss = "squared hinge" if squared else "hinge"
            for c in [0.1, 1.0, 10.0]:
                if name == "iris":
                    total, gaps = 0.0, []
                    for cls in sorted(set(labels)):
                        y = np.where(labels == cls, 1.0, -1.0)
                        f, gap, status = binary(x, y, c, squared)
                        total += f
                        gaps.append(f"{gap:.1e} {status}")
                    print(f"{name} ovr {loss} C={c}: {total:.12f}  (gaps {', '.join(gaps)})", flush=True)
                f, gap, status = crammer_singer(x, list(labels), c, squared)
                print(f"{name} crammer-singer {loss} C={c}: {f:.12f}  (gap {gap:.1e} {status})", flush=True)


if __name__ == "__main__":
    main()
