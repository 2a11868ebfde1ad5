"""Reading and writing economies: JSON for small ones, .npz for large ones.

JSON (docs/planning.md has the full description)::

    {"format": "councils-economy", "version": 1,
     "products": [{"name": "flour", "unit": "kg"}, ...],
     "workplaces": [{"name": "mill", "product": "flour", "labour": 0.2, "capacity": 500,
                     "inputs": {"grain": 1.3}, "hours": 120}, ...],
     "needs": [{"council": "north", "product": "flour", "quantity": 40, "priority": 2}, ...],
     "labour_budget": 5000}

Products may be named or given by index. The .npz form holds the same arrays
(inputs as CSC data/indices/indptr). Every error names the offending field.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .economy import Economy, EconomyError

FORMAT = "councils-economy"
VERSION = 1


def economy_from_dict(data: dict) -> Economy:
    if not isinstance(data, dict):
        raise EconomyError("(top level)", "must be a JSON object")
    products = _list(data, "products")
    names, units = [], []
    for i, p in enumerate(products):
        names.append(str(_get(p, "name", f"products[{i}]")))
        units.append(str(p.get("unit", "unit")) if isinstance(p, dict) else "unit")
    index = {name: i for i, name in enumerate(names)}
    if len(index) != len(names):
        raise EconomyError("products", "product names must be distinct")

    def product_ref(ref, where):
        if isinstance(ref, bool):
            raise EconomyError(where, f"unknown product {ref!r}")
        if isinstance(ref, int):
            if 0 <= ref < len(names):
                return ref
        elif isinstance(ref, str) and ref in index:
            return index[ref]
        raise EconomyError(where, f"unknown product {ref!r}")

    workplaces = _list(data, "workplaces")
    wp_product, labour, capacity, hours, wnames = [], [], [], [], []
    rows, cols, vals = [], [], []
    for j, w in enumerate(workplaces):
        where = f"workplaces[{j}]"
        wp_product.append(product_ref(_get(w, "product", where), f"{where}.product"))
        labour.append(_number(w, "labour", where))
        capacity.append(_number(w, "capacity", where))
        hours.append(_number(w, "hours", where) if "hours" in w else np.inf)
        wnames.append(str(w.get("name", f"workplace {j}")))
        inputs = w.get("inputs", {})
        items = inputs.items() if isinstance(inputs, dict) else inputs
        try:
            for ref, qty in items:
                rows.append(product_ref(ref, f"{where}.inputs"))
                cols.append(j)
                vals.append(_as_float(qty, f"{where}.inputs[{ref!r}]"))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, EconomyError):
                raise
            raise EconomyError(f"{where}.inputs", "must map products to quantities") from None
    needs = _list(data, "needs")
    councils: dict[str, int] = {}
    n_product, n_qty, n_prio, n_council = [], [], [], []
    for k, nd in enumerate(needs):
        where = f"needs[{k}]"
        n_product.append(product_ref(_get(nd, "product", where), f"{where}.product"))
        n_qty.append(_number(nd, "quantity", where))
        n_prio.append(_number(nd, "priority", where) if "priority" in nd else 1.0)
        c = str(_get(nd, "council", where))
        n_council.append(councils.setdefault(c, len(councils)))
    if "labour_budget" not in data:
        raise EconomyError("labour_budget", "missing")
    budget = _as_float(data["labour_budget"], "labour_budget")
    m = len(workplaces)
    inputs = sp.csc_matrix((vals, (rows, cols)), shape=(len(names), m))
    hours_arr = np.array(hours, dtype=float)
    return Economy(
        product_names=names, product_units=units,
        workplace_product=np.array(wp_product, dtype=np.int64), inputs=inputs,
        labour=np.array(labour, dtype=float), capacity=np.array(capacity, dtype=float),
        need_product=np.array(n_product, dtype=np.int64), need_quantity=np.array(n_qty, dtype=float),
        need_priority=np.array(n_prio, dtype=float), need_council=np.array(n_council, dtype=np.int64),
        council_names=list(councils), labour_budget=budget, workplace_names=wnames,
        workplace_hours=hours_arr if np.isfinite(hours_arr).any() else None,
    )


def economy_to_dict(e: Economy) -> dict:
    a = e.inputs.tocsc()
    wn = e.workplace_names or [f"workplace {j}" for j in range(e.n_workplaces)]
    workplaces = []
    for j in range(e.n_workplaces):
        lo, hi = a.indptr[j], a.indptr[j + 1]
        w = {"name": wn[j], "product": e.product_names[e.workplace_product[j]],
             "labour": float(e.labour[j]), "capacity": float(e.capacity[j]),
             "inputs": {e.product_names[i]: float(q) for i, q in zip(a.indices[lo:hi], a.data[lo:hi])}}
        if e.workplace_hours is not None and np.isfinite(e.workplace_hours[j]):
            w["hours"] = float(e.workplace_hours[j])
        workplaces.append(w)
    return {
        "format": FORMAT, "version": VERSION,
        "products": [{"name": n, "unit": u} for n, u in zip(e.product_names, e.product_units)],
        "workplaces": workplaces,
        "needs": [{"council": e.council_names[c], "product": e.product_names[p], "quantity": float(q),
                   "priority": float(w)} for c, p, q, w in
                  zip(e.need_council, e.need_product, e.need_quantity, e.need_priority)],
        "labour_budget": float(e.labour_budget),
    }


NPZ_FIELDS = ("product_names", "product_units", "workplace_product", "inputs_data", "inputs_indices",
              "inputs_indptr", "labour", "capacity", "need_product", "need_quantity", "need_priority",
              "need_council", "council_names", "labour_budget")


def save_economy(e: Economy, path: str | Path) -> None:
    path = Path(path)
    if path.suffix == ".json":
        path.write_text(json.dumps(economy_to_dict(e)))
        return
    a = e.inputs.tocsc()
    arrays = dict(
        format=np.array(FORMAT), version=np.array(VERSION),
        product_names=np.array(e.product_names), product_units=np.array(e.product_units),
        workplace_product=e.workplace_product, inputs_data=a.data, inputs_indices=a.indices,
        inputs_indptr=a.indptr, labour=e.labour, capacity=e.capacity, need_product=e.need_product,
        need_quantity=e.need_quantity, need_priority=e.need_priority, need_council=e.need_council,
        council_names=np.array(e.council_names), labour_budget=np.array(e.labour_budget),
    )
    if e.workplace_hours is not None:
        arrays["workplace_hours"] = e.workplace_hours
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def load_economy(path: str | Path) -> Economy:
    """Read an economy from .json or .npz; raises EconomyError naming the bad field."""
    path = Path(path)
    if path.suffix == ".npz":
        return _load_npz(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise EconomyError("(file)", f"not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise EconomyError("(file)", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except RecursionError:
        raise EconomyError("(file)", "nested too deeply") from None
    if isinstance(data, dict) and data.get("format", FORMAT) != FORMAT:
        raise EconomyError("format", f"expected {FORMAT!r}")
    return economy_from_dict(data)


_NPZ_TEXT = {"product_names", "product_units", "council_names"}


def _load_npz(path: Path) -> Economy:
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise EconomyError("(file)", f"not a readable .npz file: {exc}") from None
    with z:
        for name in NPZ_FIELDS:
            if name not in z.files:
                raise EconomyError(name, "missing")
        for name in (*NPZ_FIELDS, "workplace_hours"):
            if name not in z.files:
                continue
            try:
                array = z[name]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                raise EconomyError(name, f"unreadable: {exc}") from None
            if array.ndim != (0 if name == "labour_budget" else 1):
                raise EconomyError(name, f"must be {'a single number' if name == 'labour_budget' else 'a list'}, "
                                   f"got an array of shape {array.shape}")
            if name not in _NPZ_TEXT and array.dtype.kind not in "biuf":
                raise EconomyError(name, f"must hold real numbers, got {array.dtype}")
        n, m = len(z["product_names"]), len(z["workplace_product"])
        indptr = z["inputs_indptr"]
        if indptr.shape != (m + 1,):
            raise EconomyError("inputs_indptr", f"shape {indptr.shape}, expected ({m + 1},)")
        indices = z["inputs_indices"]
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise EconomyError("inputs_indices", "unknown product index")
        try:
            inputs = sp.csc_matrix((z["inputs_data"], indices, indptr), shape=(n, m))
        except ValueError as exc:
            raise EconomyError("inputs_data", str(exc)) from None
        return Economy(
            product_names=[str(s) for s in z["product_names"]],
            product_units=[str(s) for s in z["product_units"]],
            workplace_product=z["workplace_product"], inputs=inputs, labour=z["labour"],
            capacity=z["capacity"], need_product=z["need_product"], need_quantity=z["need_quantity"],
            need_priority=z["need_priority"], need_council=z["need_council"],
            council_names=[str(s) for s in z["council_names"]],
            labour_budget=float(z["labour_budget"]),
            workplace_hours=z["workplace_hours"] if "workplace_hours" in z.files else None,
        )


def _list(data, key):
    if key not in data:
        raise EconomyError(key, "missing")
    if not isinstance(data[key], list):
        raise EconomyError(key, "must be a list")
    return data[key]


def _get(obj, key, where):
    if not isinstance(obj, dict):
        raise EconomyError(where, "must be an object")
    if key not in obj:
        raise EconomyError(f"{where}.{key}", "missing")
    return obj[key]


def _number(obj, key, where):
    return _as_float(_get(obj, key, where), f"{where}.{key}")


def _parse_int(text: str):
    """An integer of the file. One of more digits than any quantity needs becomes a float (infinite if huge),
    so that the field it stands in is refused by name, where Python would stop at 4,300 digits."""
    return int(text) if len(text) <= 30 else float(text)


def _as_float(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EconomyError(where, f"must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise EconomyError(where, "must be finite, got an integer too large for a number") from None
