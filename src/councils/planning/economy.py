"""The economy a federation plans: products, workplaces (techniques), needs and labour.

Everything is held as flat numpy arrays and one sparse input matrix, so the
procedure, the optimum and the file readers all share one representation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two dense vectors without BLAS.

    OpenBLAS threads large dot products; on a busy machine its spinning
    threads make each one cost milliseconds, which over hundreds of rounds
    outweighs the whole procedure. A plain multiply-and-sum does not.
    """
    return float(np.multiply(a, b).sum())


# The ranges an economy's numbers must lie in. Far wider than any federation's plan (a trillion units or hours,
# a million units of an input per unit of output), and narrow enough that every sum and product the procedure
# and the HiGHS yardstick form stays well inside double precision: a need of 1e308 or an input of 1e300 is
# refused with the field named, not left to overflow inside the solver.
MAX_AMOUNT = 1e12  # capacities, needs, hours a workplace offers, the labour budget
MAX_PER_UNIT = 1e6  # labour hours and input quantities per unit of output, priorities
MIN_PER_UNIT = 1e-9  # a non-zero labour or input coefficient below this is a mistake in units


class EconomyError(ValueError):
    """A malformed economy. `field` names the offending part, e.g. ``workplaces[3].capacity``."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(eq=False)
class Economy:
    """One plan period's economy.

    ``inputs[i, j]`` is how many units of product ``i`` workplace ``j`` uses per
    unit of its output; ``labour[j]`` the hours per unit; ``capacity[j]`` the most
    it can make this period. Needs are listed one row per (council, product).
    """

    product_names: list[str]
    product_units: list[str]
    workplace_product: np.ndarray  # (m,) int: the product each workplace makes
    inputs: sp.csc_matrix  # (n, m)
    labour: np.ndarray  # (m,) hours per unit of output
    capacity: np.ndarray  # (m,) units per period
    need_product: np.ndarray  # (k,) int
    need_quantity: np.ndarray  # (k,)
    need_priority: np.ndarray  # (k,)
    need_council: np.ndarray  # (k,) int index into council_names
    council_names: list[str]
    labour_budget: float
    workplace_names: list[str] | None = None
    workplace_hours: np.ndarray | None = None  # (m,) optional hours each workplace offers
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.workplace_product = np.asarray(self.workplace_product)
        self.labour = np.asarray(self.labour, dtype=float)
        self.capacity = np.asarray(self.capacity, dtype=float)
        self.need_product = np.asarray(self.need_product)
        self.need_quantity = np.asarray(self.need_quantity, dtype=float)
        self.need_priority = np.asarray(self.need_priority, dtype=float)
        self.need_council = np.asarray(self.need_council)
        if self.workplace_hours is not None:
            self.workplace_hours = np.asarray(self.workplace_hours, dtype=float)
        if not sp.issparse(self.inputs):
            self.inputs = sp.csc_matrix(np.asarray(self.inputs, dtype=float))
        self.inputs = sp.csc_matrix(self.inputs, dtype=float)
        validate(self)

    # sizes -------------------------------------------------------------
    @property
    def n_products(self) -> int:
        return len(self.product_names)

    @property
    def n_workplaces(self) -> int:
        return len(self.workplace_product)

    @property
    def n_needs(self) -> int:
        return len(self.need_product)

    @property
    def n_councils(self) -> int:
        return len(self.council_names)

    # derived matrices, computed once ----------------------------------
    @property
    def effective_capacity(self) -> np.ndarray:
        """Capacity, lowered where a workplace's own hours cannot run it at full capacity."""
        if "cap" not in self._cache:
            cap = self.capacity.copy()
            if self.workplace_hours is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    by_hours = np.where(self.labour > 0, self.workplace_hours / self.labour, np.inf)
                cap = np.minimum(cap, by_hours)
            self._cache["cap"] = cap
        return self._cache["cap"]

    @property
    def makes(self) -> sp.csc_matrix:
        """(n, m) indicator: workplace j makes product i."""
        if "makes" not in self._cache:
            m = self.n_workplaces
            self._cache["makes"] = sp.csc_matrix(
                (np.ones(m), (self.workplace_product, np.arange(m))), shape=(self.n_products, m)
            )
        return self._cache["makes"]

    @property
    def net_output(self) -> sp.csr_matrix:
        """(n, m): net output of each product per unit of each workplace's output."""
        if "net" not in self._cache:
            self._cache["net"] = sp.csr_matrix(self.makes - self.inputs)
        return self._cache["net"]

    @property
    def net_output_t(self) -> sp.csr_matrix:
        if "net_t" not in self._cache:
            self._cache["net_t"] = sp.csr_matrix(self.net_output.T)
        return self._cache["net_t"]

    @property
    def delivers(self) -> sp.csr_matrix:
        """(n, k): units of product delivered per unit of fulfilment of each need."""
        if "delivers" not in self._cache:
            k = self.n_needs
            self._cache["delivers"] = sp.csr_matrix(
                (self.need_quantity, (self.need_product, np.arange(k))), shape=(self.n_products, k)
            )
        return self._cache["delivers"]

    @property
    def demand(self) -> np.ndarray:
        """Final demand per product if every need were met."""
        return np.bincount(self.need_product, self.need_quantity, minlength=self.n_products)

    def with_capacity(self, capacity: np.ndarray) -> "Economy":
        """The same economy after a shock to capacities (for re-planning)."""
        return Economy(
            self.product_names, self.product_units, self.workplace_product, self.inputs,
            self.labour, np.asarray(capacity, dtype=float), self.need_product, self.need_quantity,
            self.need_priority, self.need_council, self.council_names, self.labour_budget,
            self.workplace_names, self.workplace_hours,
        )

    def summary(self) -> dict:
        return {
            "products": self.n_products,
            "workplaces": self.n_workplaces,
            "needs": self.n_needs,
            "councils": self.n_councils,
            "input_entries": int(self.inputs.nnz),
            "labour_budget": float(self.labour_budget),
        }


def _is_acyclic(economy: Economy) -> bool:
    # Kahn's algorithm on the product graph, vectorised by peeling all sources at once.
    n = economy.n_products
    a = economy.inputs.tocoo()
    keep = a.data != 0
    src = a.row[keep]
    dst = economy.workplace_product[a.col[keep]]
    key = np.unique(src.astype(np.int64) * n + dst)  # each edge once (a one-dimensional key sorts fastest)
    edges = np.stack([key // n, key % n])
    alive = np.ones(edges.shape[1], dtype=bool)
    removed = np.zeros(n, dtype=bool)
    while True:
        indeg = np.bincount(edges[1, alive], minlength=n)
        sources = (~removed) & (indeg == 0)
        if not sources.any():
            return removed.all()
        removed |= sources
        alive &= ~sources[edges[0]]


def validate(e: Economy) -> None:
    """Raise EconomyError naming the first malformed field."""
    n = len(e.product_names)
    m = e.workplace_product.shape[0] if e.workplace_product.ndim == 1 else -1
    k = e.need_product.shape[0] if e.need_product.ndim == 1 else -1
    if n == 0:
        raise EconomyError("products", "there must be at least one product")
    if len(e.product_units) != n:
        raise EconomyError("products.unit", f"{len(e.product_units)} units for {n} products")
    if m < 0:
        raise EconomyError("workplaces.product", "must be a one-dimensional array")
    _check_index(e.workplace_product, n, "workplaces.product", "product")
    _check_vector(e.labour, m, "workplaces.labour", limit=MAX_PER_UNIT, smallest=MIN_PER_UNIT)
    _check_vector(e.capacity, m, "workplaces.capacity", limit=MAX_AMOUNT)
    if e.workplace_hours is not None:
        _check_vector(e.workplace_hours, m, "workplaces.hours", allow_inf=True, limit=MAX_AMOUNT)
    if e.workplace_names is not None and len(e.workplace_names) != m:
        raise EconomyError("workplaces.name", f"{len(e.workplace_names)} names for {m} workplaces")
    if e.inputs.shape != (n, m):
        raise EconomyError("workplaces.inputs", f"shape {e.inputs.shape}, expected {(n, m)}")
    data = e.inputs.data
    if not np.all(np.isfinite(data)) or np.any(data < 0):
        j = int(e.inputs.tocoo().col[np.flatnonzero(~(np.isfinite(data) & (data >= 0)))[0]])
        raise EconomyError(f"workplaces[{j}].inputs", "input quantities must be finite and non-negative")
    out = (data > MAX_PER_UNIT) | ((data > 0) & (data < MIN_PER_UNIT))
    if out.any():
        i = int(np.flatnonzero(out)[0])
        j = _column_of(e.inputs, i)
        name = e.product_names[int(e.inputs.indices[i])]
        span = (f"must be at most {MAX_PER_UNIT:g}" if data[i] > MAX_PER_UNIT
                else f"must be 0 or at least {MIN_PER_UNIT:g}")
        raise EconomyError(f"workplaces[{j}].inputs", f"{name!r}: {span} units per unit of output, got {data[i]:g}")
    if k < 0:
        raise EconomyError("needs.product", "must be a one-dimensional array")
    _check_index(e.need_product, n, "needs.product", "product")
    _check_vector(e.need_quantity, k, "needs.quantity", limit=MAX_AMOUNT)
    if np.any(e.need_quantity == 0):
        raise EconomyError(f"needs[{int(np.flatnonzero(e.need_quantity == 0)[0])}].quantity", "must be positive")
    _check_vector(e.need_priority, k, "needs.priority", limit=MAX_PER_UNIT)
    _check_index(e.need_council, len(e.council_names), "needs.council", "council")
    if not np.isfinite(e.labour_budget) or e.labour_budget < 0:
        raise EconomyError("labour_budget", "must be a finite non-negative number of hours")
    if e.labour_budget > MAX_AMOUNT:
        raise EconomyError("labour_budget", f"must be at most {MAX_AMOUNT:g} hours, got {e.labour_budget:g}")
    if not _is_acyclic(e):
        _check_productive(e)


def _column_of(a: sp.csc_matrix, i: int) -> int:
    return int(np.searchsorted(a.indptr, i, side="right") - 1)


def _check_vector(arr: np.ndarray, size: int, name: str, allow_inf: bool = False, limit: float = np.inf,
                  smallest: float = 0.0) -> None:
    if arr.shape != (size,):
        raise EconomyError(name, f"shape {arr.shape}, expected ({size},)")
    bad = np.isnan(arr) | (arr < 0) | (~allow_inf & np.isinf(arr))
    prefix, _, attr = name.partition(".")
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EconomyError(f"{prefix}[{i}].{attr}", f"must be finite and non-negative, got {arr[i]}")
    out = (np.isfinite(arr) & (arr > limit)) | ((arr > 0) & (arr < smallest))
    if out.any():
        i = int(np.flatnonzero(out)[0])
        span = f"0 or between {smallest:g} and {limit:g}" if smallest > 0 else f"at most {limit:g}"
        raise EconomyError(f"{prefix}[{i}].{attr}", f"must be {span}, got {arr[i]:g}")


def _check_index(arr: np.ndarray, size: int, name: str, what: str) -> None:
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise EconomyError(name, f"must be integer {what} indices")
    bad = (arr < 0) | (arr >= size)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        prefix, _, attr = name.partition(".")
        raise EconomyError(f"{prefix}[{i}].{attr}", f"unknown {what} index {arr[i]}")


def _check_productive(e: Economy) -> None:
    """A cyclic technology is acceptable only if it is productive.

    We test the most input-hungry technique of each product: if even that
    system has spectral radius below one, every choice of techniques is
    productive (the Hawkins-Simon condition, via Perron-Frobenius monotonicity).
    """
    n = e.n_products
    a = e.inputs.tocoo()
    # column j -> product p(j): take the max coefficient over techniques of the same product
    rows, cols = a.row, e.workplace_product[a.col]
    dense_key = rows.astype(np.int64) * n + cols
    order = np.argsort(dense_key)
    key, vals = dense_key[order], a.data[order]
    uniq, start = np.unique(key, return_index=True)
    mx = np.maximum.reduceat(vals, start) if len(vals) else vals
    worst = sp.csr_matrix((mx, (uniq // n, uniq % n)), shape=(n, n))
    v = np.ones(n)
    for _ in range(200):  # power iteration on a non-negative matrix
        w = worst @ v
        norm = w.max()
        if norm == 0:
            return
        v = w / norm
    if norm >= 1 - 1e-9:
        raise EconomyError("workplaces.inputs", f"technology is cyclic and not productive (spectral radius {norm:.3g} >= 1)")
