"""The yardstick: the whole planning problem as one linear program, solved by HiGHS.

Variables: output ``x[j]`` of each workplace and fulfilment ``f[k]`` in [0, 1]
of each need (delivery ``quantity[k] * f[k]``); for max-min also the worst
fulfilment ``t``.

    weighted:  max  sum_k w_k f_k / sum_k w_k
    maxmin:    max  t  (+ a tiny weighted term to break ties)
    s.t.       net_output @ x - delivers @ f >= 0      (every product balances)
               labour @ x <= labour_budget
               0 <= x <= capacity,  0 <= f <= 1,  f_k >= t (maxmin)
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from .economy import Economy, dot

AIMS = ("weighted", "maxmin")


@dataclass
class OptimumResult:
    aim: str
    status: str
    objective: float  # weighted fulfilment (weighted aim) or worst fulfilment (maxmin)
    output: np.ndarray
    fulfilment: np.ndarray
    prices: np.ndarray  # shadow prices of products, in labour hours per unit
    labour_price: float  # value of one hour, in fulfilment units
    seconds: float
    method: str

    def to_dict(self) -> dict:
        return {
            "aim": self.aim, "status": self.status, "objective": self.objective,
            "output": self.output.tolist(), "fulfilment": self.fulfilment.tolist(),
            "prices": self.prices.tolist(), "labour_price": self.labour_price,
            "seconds": self.seconds, "method": self.method,
        }


def weights(economy: Economy) -> np.ndarray:
    w = economy.need_priority
    total = w.sum()
    return w / total if total > 0 else np.full(w.size, 1.0 / max(w.size, 1))


def optimum(economy: Economy, aim: str = "weighted", method: str = "highs-ipm") -> OptimumResult:
    """Solve the plan centrally; its objective is the best any procedure can reach."""
    if aim not in AIMS:
        raise ValueError(f"aim must be one of {AIMS}")
    m, k, n = economy.n_workplaces, economy.n_needs, economy.n_products
    w = weights(economy)
    maxmin = aim == "maxmin"
    nv = m + k + (1 if maxmin else 0)
    c = np.zeros(nv)
    if maxmin:
        c[-1] = -1.0
        c[m:m + k] = -1e-4 * w  # among equally fair plans, prefer the one serving priorities
    else:
        c[m:m + k] = -w
    blocks = [-economy.net_output, economy.delivers]
    lab = [sp.csr_matrix(economy.labour[None, :]), sp.csr_matrix((1, k))]
    if maxmin:
        blocks.append(sp.csr_matrix((n, 1)))
        lab.append(sp.csr_matrix((1, 1)))
    rows = [sp.hstack(blocks), sp.hstack(lab)]
    b = [np.zeros(n), [economy.labour_budget]]
    if maxmin:  # t - f_k <= 0
        rows.append(sp.hstack([sp.csr_matrix((k, m)), -sp.identity(k), np.ones((k, 1))]))
        b.append(np.zeros(k))
    a_ub = sp.vstack(rows).tocsc()
    bounds = np.zeros((nv, 2))
    bounds[:m, 1] = economy.effective_capacity
    bounds[m:m + k, 1] = 1.0
    if maxmin:
        bounds[-1, 1] = 1.0
    start = time.perf_counter()
    res = linprog(c, A_ub=a_ub, b_ub=np.concatenate(b), bounds=bounds, method=method)
    seconds = time.perf_counter() - start
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed: {res.message}")
    x = res.x[:m]
    f = res.x[m:m + k]
    marg = -res.ineqlin.marginals
    mu = float(marg[n])
    prices = marg[:n] / mu if mu > 1e-15 else marg[:n]
    objective = float(res.x[-1]) if maxmin else dot(w, f)
    return OptimumResult(aim, "optimal", objective, x, f, prices, mu, seconds, method)
