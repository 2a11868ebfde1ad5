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


# ------------------------------------------------------------------ families
#
# The economy above is easy for a price procedure: capacities 15 % above what full need takes, one or a few
# techniques of similar labour cost, inputs spread thinly. Economies a federation brings differ in ways that
# matter to convergence, and the engine is tested and benchmarked on each of them:
#
# * capacity-bound: the capacity of each product's workplaces is only 0.6 to 1.6 times what meeting every need
#   would take, so capacities bind on most products at once while hours are left over;
# * many-techniques: four to eight techniques per product, with labour costs differing up to tenfold and the
#   cheaper-in-labour ones using more inputs;
# * heavy-tailed: most inputs come from a few core products (a Zipf law over the products), so a handful of
#   prices carry the whole economy;
# * labour-bound: capacity is plentiful (two to four times need) and the federation's hours bind;
# * cyclic: inputs may come from any product (the technology has cycles) and is productive;
# * mixed: capacity-bound, several techniques, heavy-tailed inputs and needs spread over many final products
#   at once (the economies issue 16 reported).

FAMILIES = ("current", "capacity-bound", "many-techniques", "heavy-tailed", "labour-bound", "cyclic", "mixed")

_FAMILY_PARAMS = {
    #                   techniques, labour spread, zipf, cyclic, capacity ratio, labour share
    "capacity-bound": dict(extra=1.0, spread=(0.3, 1.5), zipf=0.0, cyclic=False, ratio=(0.6, 1.6), share=1.2),
    "many-techniques": dict(extra=5.0, spread=(0.15, 1.5), zipf=0.0, cyclic=False, ratio=(0.8, 2.0), share=0.5),
    "heavy-tailed": dict(extra=1.0, spread=(0.3, 1.5), zipf=1.3, cyclic=False, ratio=(1.0, 1.5), share=0.6),
    "labour-bound": dict(extra=2.0, spread=(0.3, 1.5), zipf=0.0, cyclic=False, ratio=(2.0, 4.0), share=0.4),
    "cyclic": dict(extra=1.5, spread=(0.3, 1.5), zipf=0.5, cyclic=True, ratio=(0.9, 1.8), share=0.6),
    "mixed": dict(extra=3.0, spread=(0.15, 1.5), zipf=1.3, cyclic=False, ratio=(0.6, 1.6), share=0.8),
}


def family_economy(family: str = "current", size: str | tuple[int, int, int] = "small", seed: int = 0) -> Economy:
    """A random economy of one of the FAMILIES, of the named size (products, workplaces, councils).

    ``size`` gives the number of products and councils; the number of workplaces follows from the family's
    techniques per product where that asks for more than the size names.
    """
    if family == "current":
        return synthetic_economy(size, seed)
    if family not in _FAMILY_PARAMS:
        raise ValueError(f"family must be one of {FAMILIES}")
    pr = _FAMILY_PARAMS[family]
    n, m, h = SIZES[size.replace("_", "-")] if isinstance(size, str) else size
    rng = np.random.default_rng((seed, FAMILIES.index(family)))
    m = max(m, n, int(round(n * (1 + pr["extra"]))))

    product = np.concatenate([np.arange(n), rng.integers(0, n, m - n)])
    product.sort()
    techniques = np.bincount(product, minlength=n)

    # inputs: one to seven per technique; from lower tiers, or from anywhere for a cyclic technology
    tier = (np.arange(n) * TIERS) // n
    tier_start = np.searchsorted(tier, np.arange(TIERS))
    below = n if pr["cyclic"] else tier_start[tier[product]]
    below = np.broadcast_to(below, (m,))
    n_in = np.where(below > 0, 1 + rng.poisson(3, m), 0)
    rows = np.repeat(np.arange(m), n_in)
    owner = below[rows]
    if pr["zipf"] > 0:
        # a Zipf law over the products each technique may draw on: product 0 is used most
        u = rng.random(rows.size)
        a = pr["zipf"]
        # inverse CDF of a continuous power law on [1, owner + 1), floored to an index
        pick = np.floor((1 + u * ((owner + 1.0) ** (1 - a) - 1)) ** (1 / (1 - a))) - 1
        inp = np.clip(pick, 0, owner - 1).astype(np.int64)
    else:
        inp = (rng.random(rows.size) * owner).astype(np.int64)
    if pr["cyclic"]:
        inp = np.where(inp == product[rows], (inp + 1) % n, inp)  # no product is its own input directly
    raw = rng.uniform(0.2, 1.0, rows.size)
    col_total = np.bincount(rows, raw, minlength=m)
    # labour against inputs: techniques light in labour use more inputs
    lo, hi = pr["spread"]
    labour = np.exp(rng.uniform(np.log(lo), np.log(hi), m))
    lightness = (np.log(hi) - np.log(labour)) / (np.log(hi) - np.log(lo))  # 0 (labour-heavy) to 1
    share = 0.15 + 0.5 * lightness * rng.uniform(0.6, 1.0, m)
    coef = raw / np.maximum(col_total[rows], 1e-300) * share[rows]
    inputs = sp.csc_matrix((coef, (inp, rows)), shape=(n, m))
    if pr["cyclic"]:
        inputs = inputs * min(1.0, 0.7 / max(_worst_radius(inputs, product, n), 1e-12))
        inputs = sp.csc_matrix(inputs)

    # needs: each council names distinct products, spread over the upper half of the products
    k_per = min(NEEDS_PER_COUNCIL, n)
    council = np.repeat(np.arange(h), k_per)
    finals = n - 1 - (rng.random(council.size) * max(n // 2, 1)).astype(np.int64)
    need_product = _distinct_per_council(np.clip(finals, 0, n - 1), council, n, rng)
    need_quantity = rng.lognormal(2.0, 0.9, council.size).round(1) + 0.1
    need_priority = rng.choice([1.0, 2.0, 3.0, 5.0], council.size, p=[0.4, 0.3, 0.2, 0.1])

    # capacities: each product's total is a ratio of the gross output full need takes, split unevenly
    weight = np.ones(m) / techniques[product]
    demand = np.bincount(need_product, need_quantity, minlength=n)
    gross = _gross_output(inputs, product, weight, demand)
    ratio = rng.uniform(*pr["ratio"], n)
    split = rng.uniform(0.3, 1.7, m)
    split_total = np.bincount(product, split, minlength=n)
    capacity = (gross[product] * ratio[product] * split / split_total[product]).round(2) + 0.01
    hours_needed = dot(labour, gross[product] * weight)
    return Economy(
        product_names=[f"p{i}" for i in range(n)], product_units=["unit"] * n, workplace_product=product,
        inputs=inputs, labour=labour.round(4), capacity=capacity, need_product=need_product,
        need_quantity=need_quantity, need_priority=need_priority, need_council=council,
        council_names=[f"n{c}" for c in range(h)], labour_budget=round(pr["share"] * hours_needed, 1),
    )


def _worst_radius(inputs, product, n):
    """Spectral radius of the product-by-product matrix of each product's most input-hungry technique."""
    a = inputs.tocoo()
    worst = sp.csr_matrix((a.data, (a.row, product[a.col])), shape=(n, n))  # summed: an upper bound of the max
    v = np.ones(n)
    norm = 0.0
    for _ in range(100):
        w = worst @ v
        norm = float(w.max())
        if norm == 0:
            return 0.0
        v = w / norm
    return norm
