"""Where the councils' step runs. Every backend returns exactly the same proposals.

The numpy backend computes all default proposals in one vectorised pass; the
Dask backend (dask_backend.py) splits the councils into partitions, one task
each. Both apply the same elementwise rules to the same numbers, so their
results agree bit for bit; the aggregation stays with the facilitation step.
"""
from __future__ import annotations

import numpy as np

from .economy import Economy


class NumpyBackend:
    name = "numpy"

    def __init__(self, economy: Economy):
        self.economy = economy

    def propose(self, signal, scale: np.ndarray, unit: float):
        from .procedure import Proposals
        x, f, sx, sf = council_step(self.economy.inputs, self.economy.labour, self.economy.effective_capacity,
                                     self.economy.workplace_product, self.economy.need_product,
                                     self.economy.need_quantity, signal, scale, unit)
        return Proposals(x, f, surplus=total_surplus(sx, sf))

    def close(self):
        pass


def council_step(inputs, labour, capacity, product, need_product, need_quantity, signal, scale, unit):
    """Default proposals of a group of councils (workplaces and needs) for one signal.

    Returns their outputs, the shares of their needs they ask for, and each one's best-response surplus at
    the published prices (its term of the certificate, certificate.py).
    """
    from .procedure import need_rule, workplace_rule
    cost = inputs.T @ signal.value + signal.hour_value * labour
    margin = signal.value[product] - cost
    x = workplace_rule(margin, capacity, signal.anchor_output, signal.step_output)
    surplus_x = np.multiply(capacity, np.maximum(margin, 0.0))
    if signal.level is not None:  # max-min: every need asks for the common level
        return x, np.full(need_product.size, signal.level), surplus_x, np.zeros(need_product.size)
    need_margin = signal.need_weight - need_quantity * signal.value[need_product]
    f = need_rule(signal.need_weight, need_quantity, signal.value[need_product], signal.anchor_fulfilment,
                  signal.step_fulfilment)
    return x, f, surplus_x, np.maximum(need_margin, 0.0)


def total_surplus(surplus_x: np.ndarray, surplus_f: np.ndarray) -> float:
    """The councils' surpluses summed in one fixed order, so that every backend gets the same bits."""
    return float(surplus_x.sum()) + float(surplus_f.sum())


def make_backend(name: str, economy: Economy, scheduler: str | None = None, partitions: int | None = None):
    if name == "numpy":
        return NumpyBackend(economy)
    if name == "dask":
        from .dask_backend import DaskBackend
        return DaskBackend(economy, scheduler=scheduler, partitions=partitions)
    raise ValueError("backend must be 'numpy' or 'dask'")
