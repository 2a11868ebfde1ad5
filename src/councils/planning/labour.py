"""Labour values: the hours embodied in one unit of each product.

With each product made by a mix of its techniques, values solve
``v = l_mix + A_mix^T v`` (direct hours plus the values of the inputs used).
We iterate that equation (a Neumann series) on sparse matrices: an acyclic
technology settles after as many sweeps as its depth, a productive cyclic one
converges geometrically, and each sweep costs one sparse product, so 10^5
products take well under a second. GMRES takes over if the series is slow.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import gmres

from .economy import Economy, EconomyError


def technique_mix(economy: Economy, output: np.ndarray | None = None) -> sp.csr_matrix:
    """(m, n) share of each product made by each workplace: by ``output``, else by capacity."""
    m, n = economy.n_workplaces, economy.n_products
    p = economy.workplace_product
    weight = np.asarray(output if output is not None else economy.effective_capacity, dtype=float)
    total = np.bincount(p, weight, minlength=n)
    # a product nobody makes in this plan is valued at its techniques' plain average
    count = np.bincount(p, minlength=n)
    share = np.where(total[p] > 0, weight / np.where(total[p] > 0, total[p], 1), 1.0 / count[p])
    return sp.csr_matrix((share, (np.arange(m), p)), shape=(m, n))


def labour_values(economy: Economy, output: np.ndarray | None = None, *, tol: float = 1e-12,
                  max_sweeps: int = 500) -> np.ndarray:
    """Hours embodied per unit of each product, techniques mixed by ``output`` (default capacity)."""
    mix = technique_mix(economy, output)
    direct = mix.T @ economy.labour
    a_t = sp.csr_matrix((economy.inputs @ mix).T)  # (n, n): a_t[i, k] = units of k per unit of i
    v = direct.copy()
    for _ in range(max_sweeps):
        nxt = direct + a_t @ v
        if np.abs(nxt - v).max() <= tol * max(np.abs(nxt).max(), 1.0):
            return nxt
        v = nxt
    n = economy.n_products
    v, info = gmres(sp.identity(n, format="csr") - a_t, direct, x0=v, rtol=tol, maxiter=1000)
    if info != 0 or np.any(v < -1e-9):
        raise EconomyError("workplaces.inputs", "technology is not productive: labour values diverge")
    return v
