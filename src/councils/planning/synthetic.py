"""Synthetic economies from a seed, for tests and benchmarks.

Products are ordered from basic to final: a product uses only inputs that
come before it, so the technology is acyclic and therefore productive. The
first few percent are a core of widely used inputs (energy, transport,
tools) that most techniques draw on. Each product has one or more
techniques trading labour against inputs; needs fall mostly on the later,
final products; the labour budget is too small to meet every need, so the
plan has to choose.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .economy import Economy, dot

SIZES = {
    "tiny": (12, 30, 4),
    "small": (50, 200, 20),
    "medium": (2_000, 10_000, 500),
    "large": (5_000, 30_000, 1_500),
    "very-large": (20_000, 100_000, 5_000),
}
NEEDS_PER_COUNCIL = 10
TIERS = 8  # depth of the input graph: raw materials up to finished goods


def synthetic_economy(
    size: str | tuple[int, int, int] = "small",
    seed: int = 0,
    *,
    labour_share: float = 0.5,
    needs_per_council: int = NEEDS_PER_COUNCIL,
) -> Economy:
    """A random economy of the named size (products, workplaces, councils).

    ``labour_share`` is the budget as a share of the hours meeting every need
    would take, so below one the plan cannot meet them all.
    """
    n, m, h = SIZES[size.replace("_", "-")] if isinstance(size, str) else size
    if m < n:
        raise ValueError("need at least one workplace per product")
    rng = np.random.default_rng(seed)
    n_core = max(1, n // 25)

    # every product has one technique; the rest are alternatives spread at random
    product = np.concatenate([np.arange(n), rng.integers(0, n, m - n)])
    product.sort()

    # inputs: only from lower tiers (tier 0 is made from labour alone), often from the core
    tier = (np.arange(n) * TIERS) // n
    tier_start = np.searchsorted(tier, np.arange(TIERS))
    below = tier_start[tier[product]]  # products a workplace may draw on
    n_in = np.where(below > 0, 1 + rng.poisson(3, m), 0)
    rows = np.repeat(np.arange(m), n_in)
    owner = below[rows]
    from_core = rng.random(rows.size) < 0.4
    core_pick = (rng.random(rows.size) * np.minimum(owner, n_core)).astype(np.int64)
    any_pick = (rng.random(rows.size) * owner).astype(np.int64)
    inp = np.where(from_core, core_pick, any_pick)
    raw = rng.uniform(0.2, 1.0, rows.size)
    col_total = np.bincount(rows, raw, minlength=m)
    share = rng.uniform(0.2, 0.6, m)  # input value below one keeps labour values bounded
    coef = raw / col_total[rows] * share[rows]
    inputs = sp.csc_matrix((coef, (inp, rows)), shape=(n, m))
    labour = rng.uniform(0.3, 1.5, m)

    # needs: each council names distinct products, mostly among the later (final) ones
    k_per = min(needs_per_council, n)
    council = np.repeat(np.arange(h), k_per)
    finals = n - (rng.power(2.5, council.size) * n).astype(np.int64) - 1
    finals = np.clip(finals, 0, n - 1)
    need_product = _distinct_per_council(finals, council, n, rng)
    need_quantity = rng.lognormal(2.0, 0.7, council.size).round(1) + 0.1
    need_priority = rng.choice([1.0, 2.0, 3.0, 5.0], council.size, p=[0.4, 0.3, 0.2, 0.1])

    # capacities: roughly the gross output full demand would call for, split unevenly
    techniques = np.bincount(product, minlength=n)
    weight = np.ones(m) / techniques[product]
    demand = np.bincount(need_product, need_quantity, minlength=n)
    gross = _gross_output(inputs, product, weight, demand)
    split = rng.uniform(0.4, 1.6, m)
    split_total = np.bincount(product, split, minlength=n)
    capacity = gross[product] * split / split_total[product] * 1.15 + rng.uniform(0.5, 2.0, m)
    capacity = capacity.round(2)

    hours_needed = dot(labour, gross[product] * weight)
    economy = Economy(
        product_names=[f"p{i}" for i in range(n)],
        product_units=[rng.choice(["kg", "unit", "hour", "litre", "kWh"]) for _ in range(n)],
        workplace_product=product,
        inputs=inputs,
        labour=labour.round(3),
        capacity=capacity,
        need_product=need_product,
        need_quantity=need_quantity,
        need_priority=need_priority,
        need_council=council,
        council_names=[f"n{c}" for c in range(h)],
        labour_budget=round(labour_share * hours_needed, 1),
        workplace_names=None,
    )
    return economy


def _distinct_per_council(products, council, n, rng):
    # a council lists each product once; collisions are moved to random other products
    products = products.copy()
    for _ in range(50):
        key = council.astype(np.int64) * n + products
        _, first = np.unique(key, return_index=True)
        dup = np.ones(key.size, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        products[dup] = rng.integers(0, n, dup.sum())
    return products


def _gross_output(inputs, product, weight, demand):
    """Gross output meeting ``demand`` when each product's techniques share it by ``weight``."""
    n = demand.size
    mix = sp.csr_matrix((weight, (np.arange(product.size), product)), shape=(product.size, n))
    a_avg = sp.csr_matrix(inputs @ mix)  # (n, n) average technique
    gross = demand.copy()
    for _ in range(n + 1):  # acyclic: the Neumann series ends after the depth
        nxt = demand + a_avg @ gross
        if np.allclose(nxt, gross, rtol=1e-12, atol=1e-12):
            break
        gross = nxt
    return gross
