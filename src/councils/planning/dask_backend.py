"""The councils' step as Dask tasks, one per partition of the councils.

Each partition (a block of workplaces, a block of neighbourhood councils'
needs) is sent to the workers once; every round only the signal travels out
and the proposals come back. The rules are the same elementwise functions as
the numpy backend's, so the proposals are identical bit for bit. Pass any
scheduler address for a real cluster; without one a LocalCluster is started.
"""
from __future__ import annotations

import numpy as np

from .backends import council_step, total_surplus
from .economy import Economy


def _partition_step(part, signal, scale, unit):
    inputs, labour, cap, product, need_product, need_quantity, workplaces, needs = part
    local = signal.part(workplaces, needs)
    return council_step(inputs, labour, cap, product, need_product, need_quantity, local, scale, unit)


class DaskBackend:
    name = "dask"

    def __init__(self, economy: Economy, scheduler: str | None = None, partitions: int | None = None,
                 client=None):
        from distributed import Client, LocalCluster
        self.economy = economy
        self._own = client is None
        if client is not None:
            self.client = client
        elif scheduler:
            self.client = Client(scheduler)
        else:
            self.client = Client(LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                              dashboard_address=None))
        workers = len(self.client.scheduler_info().get("workers", {})) or 1
        p = partitions or max(2, 2 * workers)
        e = economy
        w_blocks = np.array_split(np.arange(e.n_workplaces), p)
        # needs go with their council: a neighbourhood council is never split
        council_part = (np.arange(e.n_councils) * p) // max(e.n_councils, 1)
        need_part = council_part[e.need_council] if e.n_needs else np.zeros(0, dtype=int)
        self.blocks = []
        parts = []
        cap = e.effective_capacity
        for i in range(p):
            ws = w_blocks[i]
            ks = np.flatnonzero(need_part == i)
            self.blocks.append((ws, ks))
            parts.append((e.inputs[:, ws[0]:ws[-1] + 1] if ws.size else e.inputs[:, :0],
                          e.labour[ws], cap[ws], e.workplace_product[ws], e.need_product[ks],
                          e.need_quantity[ks], ws, ks))
        self.parts = self.client.scatter(parts, broadcast=False)

    def propose(self, signal, scale, unit):
        from .procedure import Proposals
        # the signal is small (a price per product); sending it with each task is cheapest
        futures = [self.client.submit(_partition_step, part, signal, scale, unit, pure=False)
                   for part in self.parts]
        e = self.economy
        x = np.empty(e.n_workplaces)
        f = np.empty(e.n_needs)
        sx = np.empty(e.n_workplaces)
        sf = np.empty(e.n_needs)
        for (ws, ks), (xp, fp, sxp, sfp) in zip(self.blocks, self.client.gather(futures)):
            x[ws], f[ks], sx[ws], sf[ks] = xp, fp, sxp, sfp
        return Proposals(x, f, surplus=total_surplus(sx, sf))

    def close(self):
        if self._own:
            cluster = getattr(self.client, "cluster", None)
            self.client.close()
            if cluster is not None:
                cluster.close()
