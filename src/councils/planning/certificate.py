"""The certificate: a bound on the best possible plan from the published prices alone.

The planning problem is a linear program (docs/planning.md). For any prices ``p >= 0`` of the products and
any value ``mu >= 0`` of an hour, its Lagrangian dual function

    L(p, mu) = mu * budget
             + sum over workplaces j of  capacity_j * max(0, p[product_j] - inputs_j . p - mu * labour_j)
             + sum over needs k of       max(0, weight_k - quantity_k * p[product_k])

is at least the value of every feasible plan (weak duality: each term is the most a council could gain by
its own *unregularised* best response at those prices, and a feasible plan gains no more than all of them
together). Every term is one council's answer to the published prices from its own data, so the bound is
computed in the same pass as the proposals and needs nobody's private data. With the value of the best
feasible plan found so far, it certifies how far that plan can be from the optimum without solving the LP:
``(bound - value) / bound`` is at least the true gap ``(optimum - value) / optimum``.

Prices may be scaled by any ``s >= 0`` and still give a bound; ``weighted_bound`` takes the best ``s``
(a one-dimensional convex problem, solved exactly by sorting), which costs nothing in privacy and tightens
the bound in early rounds.
"""
from __future__ import annotations

import numpy as np

from .economy import Economy, dot


def workplace_surplus(economy: Economy, value: np.ndarray, hour_value: float) -> float:
    """Sum over workplaces of capacity times the positive part of the margin at the prices."""
    margin = value[economy.workplace_product] - (economy.inputs.T @ value) - hour_value * economy.labour
    return dot(economy.effective_capacity, np.maximum(margin, 0.0))


def weighted_bound(surplus: float, hour_value: float, budget: float, weight: np.ndarray,
                   cost: np.ndarray) -> float:
    """min over s >= 0 of s * (surplus + hour_value * budget) + sum_k max(0, weight_k - s * cost_k).

    ``surplus`` is the workplaces' term at the prices, ``cost[k] = quantity_k * p[product_k]`` each need's
    cost at the prices. The function of ``s`` is convex and piecewise linear; its slope is
    ``a - sum of cost_k over the needs still asked for``, so the minimum is where that sum falls below ``a``.
    """
    a = surplus + hour_value * budget
    if weight.size == 0:
        return 0.0
    pos = cost > 0
    free = float(weight[~pos].sum())  # needs that cost nothing at these prices count in full at every s
    w, c = weight[pos], cost[pos]
    if w.size == 0:
        return free
    # the minimum is at s = 0 or at a break w_k / c_k; at s = b_i only needs with a later break still count
    order = np.argsort(w / c)
    w, c = w[order], c[order]
    b = w / c
    tail_w = np.concatenate([np.cumsum(w[::-1])[::-1][1:], [0.0]])
    tail_c = np.concatenate([np.cumsum(c[::-1])[::-1][1:], [0.0]])
    at_breaks = b * a + tail_w - b * tail_c
    return free + float(min(float(w.sum()), float(at_breaks.min())))


def maxmin_bound(surplus: float, hour_value: float, budget: float, demand_cost: float) -> float:
    """Bound on the common level: min over s >= 0 of s * (surplus + mu * budget) + max(0, 1 - s * p . demand).

    The minimum is at s = 0 or s = 1 / (p . demand): the level cannot exceed one, nor the hours and profits
    the prices allow divided by what all needs cost at those prices.
    """
    a = surplus + hour_value * budget
    if demand_cost <= 0:
        return 1.0
    return float(min(1.0, a / demand_cost))


def certified_gap(bound: float, value: float) -> float:
    """(bound - value) / bound, at least the true shortfall from the optimum as a share of it."""
    if bound <= 0 or value >= bound:
        return 0.0
    return (bound - value) / bound
