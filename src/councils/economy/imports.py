"""Reading a workplace council's capabilities from a CSV file or an economy file.

A capability is one product the council makes: the inputs it uses per unit of
output, the labour hours per unit and its capacity (units per period). Pure
parsing: no Django, no database. Every error names where to look, so a member
can fix their spreadsheet: ``row 4, column capacity: must not be negative, got -2``.
The import is all or nothing: the full list, or the first error.

CSV
---
A header row, then one row per product made::

    product,labour,capacity,inputs
    bread,0.5,200,"flour=1.3; water=0.5"
    flour,0.2,500,grain=1.4

Columns (headings are trimmed and case-insensitive):

``product``
    the product's name as in the catalogue (required).
``labour`` (or ``labour_hours``, ``hours_per_unit``)
    hours of work per unit made (required).
``capacity`` (or ``capacity_per_period``)
    the most units the council can make in a period (required).
``inputs``
    optional; ``name=quantity`` pairs separated by ``;`` (spaces tolerated):
    units of each input used per unit of output.
``input:<product name>``
    optional, any number of them: the same, one column per input, e.g. a
    column ``input:flour`` holding ``1.3``. An empty cell means none.

Both input forms may be mixed, but not for the same input in the same row.
The delimiter may be a comma, a semicolon or a tab (guessed from the header
line). Where it is not a comma, numbers may use a decimal comma (``1,5``);
an ``inputs`` cell in a semicolon file must then be quoted, or use the
``input:`` columns instead. Numbers must be finite, not negative and at most
``MAX_NUMBER``; an input quantity of 0 is dropped. Rows are numbered as in a
spreadsheet: the header is row 1. Blank rows are skipped. A product may use
itself as an input only if it uses less than one unit per unit made.

Economy file
------------
The planning engine's economy file (see ``councils.planning.io``), as JSON or
.npz: each workplace becomes one capability. Needs and the labour budget are
ignored. Errors name the field, e.g. ``workplaces[3].capacity``.
"""
from __future__ import annotations

import csv
import difflib
import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from councils.planning.economy import Economy, EconomyError
from councils.planning.io import FORMAT, economy_from_dict, load_economy

MAX_BYTES = 2_000_000
MAX_ROWS = 10_000
MAX_NUMBER = 1e12
# An uploaded .npz is a zip: refuse one that would inflate to far more than any real economy.
MAX_UNPACKED_BYTES = 100 * MAX_BYTES


@dataclass(frozen=True)
class CapabilityRow:
    product: str
    labour: float
    capacity: float
    inputs: dict[str, float]
    where: str


class CapabilityImportError(ValueError):
    """Names where the problem is (``row 4``, ``workplaces[2].labour``) and what it is."""

    def __init__(self, where: str, column: str | None, message: str):
        super().__init__(where, column, message)  # all three, so the error pickles
        self.where, self.column, self.message = where, column, message

    @property
    def field(self) -> str:
        return f"{self.where}, column {self.column}" if self.column else self.where

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def parse_capabilities(data: bytes | str, product_names, fmt: str) -> list[CapabilityRow]:
    if fmt == "csv":
        return parse_capabilities_csv(data, product_names)
    if fmt == "economy":
        return parse_capabilities_economy(data, product_names)
    raise CapabilityImportError("file", "format", f"unknown format {fmt!r}; expected 'csv' or 'economy'")


# --- CSV ---------------------------------------------------------------------

_ALIASES = {
    "product": "product", "labour": "labour", "labour_hours": "labour", "hours_per_unit": "labour",
    "capacity": "capacity", "capacity_per_period": "capacity", "inputs": "inputs",
}
_REQUIRED = ("product", "labour", "capacity")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class _Column:
    kind: str  # a canonical name from _ALIASES, "input" (one wide input column) or "blank"
    label: str  # as the member wrote it, to point them at it
    product: str = ""  # for "input" columns


def parse_capabilities_csv(data: bytes | str, product_names) -> list[CapabilityRow]:
    catalogue = frozenset(product_names)
    text = _text(data)
    delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[_Column] | None = None
    rows: list[CapabilityRow] = []
    listed: dict[str, int] = {}
    number = 0
    try:
        # Records, not lines, are numbered: a quoted cell may span lines, as in a spreadsheet.
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue  # blank, or all-empty cells as spreadsheets export trailing rows
            if header is None:
                header = _header(cells, number, catalogue)
                continue
            if len(rows) == MAX_ROWS:
                raise CapabilityImportError("file", None, f"has more than {MAX_ROWS:,} rows; split it into smaller files")
            rows.append(_csv_row(cells, number, header, catalogue, listed, decimal_comma=delimiter != ","))
    except csv.Error as exc:
        raise CapabilityImportError(f"row {number + 1}", None, f"cannot be read as CSV: {exc}") from None
    if not rows:
        raise CapabilityImportError("file", None, "has no capabilities: expected a header row, then one row per product")
    return rows


def _sniff(text: str) -> str:
    first = next((line for line in re.split(r"\r\n|\r|\n", text) if re.sub(r'[\s,;"]', "", line)), "")
    unquoted = re.sub(r'"[^"]*"', "", first)  # a heading may itself contain a delimiter
    counts = {d: unquoted.count(d) for d in ",;\t"}
    best = max(counts, key=counts.__getitem__)  # ties go to the comma, listed first
    return best if counts[best] else ","


def _header(cells: list[str], number: int, catalogue: frozenset[str]) -> list[_Column]:
    where = f"row {number}"
    columns, seen = [], {}
    for position, cell in enumerate(cells, start=1):
        label = cell.strip()
        key = label.lower()
        if not label:
            columns.append(_Column("blank", str(position)))
            continue
        if key.startswith("input:"):
            product = label[len("input:"):].strip()
            if not product:
                raise CapabilityImportError(where, label, "names no product; write it as input:<product name>")
            if product not in catalogue:
                raise CapabilityImportError(where, label, _unknown(product, catalogue))
            column, identity = _Column("input", label, product), ("input", product)
        elif key in _ALIASES:
            column, identity = _Column(_ALIASES[key], label), _ALIASES[key]
        else:
            raise CapabilityImportError(
                where, label, "unknown column; expected product, labour, capacity, inputs or input:<product name>")
        if identity in seen:
            raise CapabilityImportError(where, label, f"repeats the column {seen[identity]}")
        seen[identity] = label
        columns.append(column)
    for kind in _REQUIRED:
        if kind not in seen:
            raise CapabilityImportError(where, kind, "missing; the header needs product, labour and capacity")
    return columns


def _csv_row(cells, number, header, catalogue, listed, *, decimal_comma) -> CapabilityRow:
    where = f"row {number}"
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
        raise CapabilityImportError(where, None, f"has {len(cells)} fields but the header has {len(header)} "
                                    "(is a decimal comma or an unquoted delimiter splitting a value?)")
    # Spreadsheets drop trailing empty cells, so a short row is padded rather than refused.
    cells = [cell.strip() for cell in cells] + [""] * (len(header) - len(cells))
    values = {}
    for column, cell in zip(header, cells):
        if column.kind == "blank" and cell:
            raise CapabilityImportError(where, column.label, "has a value but the column has no heading")
        values[column.kind] = (column, cell)

    column, product = values["product"]
    if not product:
        raise CapabilityImportError(where, column.label, "is empty; name the product made")
    if product not in catalogue:
        raise CapabilityImportError(where, column.label, _unknown(product, catalogue))
    if product in listed:
        raise CapabilityImportError(where, column.label, f"{_show(product)} is already listed on row {listed[product]}")
    labour = _number(*values["labour"], where, decimal_comma)
    capacity = _number(*values["capacity"], where, decimal_comma)

    inputs: dict[str, float] = {}
    given: set[str] = set()
    for column, cell in zip(header, cells):
        if column.kind == "inputs":
            pairs = list(_input_pairs(cell, column, where))
        elif column.kind == "input" and cell:
            pairs = [(column.product, cell)]
        else:
            continue
        for name, raw in pairs:
            if name in given:
                raise CapabilityImportError(where, column.label, f"gives the input {_show(name)} a second time")
            if name not in catalogue:
                raise CapabilityImportError(where, column.label, _unknown(name, catalogue))
            given.add(name)
            quantity = _number(column, raw, where, decimal_comma, what=f"{_show(name)}: ")
            if name == product and quantity >= 1:
                raise CapabilityImportError(where, column.label, _uses_itself(name, quantity))
            if quantity > 0:
                inputs[name] = quantity
    listed[product] = number
    return CapabilityRow(product, labour, capacity, inputs, where)


def _input_pairs(cell: str, column: _Column, where: str):
    for item in cell.split(";"):
        item = item.strip()
        if not item:
            continue  # tolerates a trailing ";"
        name, eq, raw = item.rpartition("=")
        if not eq or not name.strip():
            raise CapabilityImportError(where, column.label, f"{_show(item)} should be written name=quantity, e.g. flour=1.5")
        yield name.strip(), raw.strip()


def _number(column: _Column, raw: str, where: str, decimal_comma: bool, what: str = "") -> float:
    def fail(message):
        raise CapabilityImportError(where, column.label, what + message)

    if not raw:
        fail("is empty; a number is required")
    text = raw.replace(",", ".", 1) if decimal_comma and raw.count(",") == 1 and "." not in raw else raw
    if not _NUMBER.fullmatch(text):
        if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            fail(f"must be a finite number, got {_show(raw)}")
        hint = " (in a comma-separated file, use a point for decimals)" if not decimal_comma and "," in raw else ""
        fail(f"{_show(raw)} is not a number{hint}")
    value = float(text) + 0.0  # turns -0 into 0
    if value < 0:
        fail(f"must not be negative, got {_show(raw)}")
    if not value <= MAX_NUMBER:  # also catches 1e999, which float() makes infinite
        fail(f"must be at most {MAX_NUMBER:g}, got {_show(raw)}")
    return value


# --- economy file ------------------------------------------------------------

def parse_capabilities_economy(data: bytes | str, product_names) -> list[CapabilityRow]:
    catalogue = frozenset(product_names)
    try:
        if isinstance(data, (bytes, bytearray)) and data[:2] == b"PK":
            _check_size(len(data))
            economy = _npz_economy(bytes(data))
        else:
            economy = _json_economy(_text(data))
    except EconomyError as exc:
        raise CapabilityImportError(exc.field, None, str(exc).removeprefix(f"{exc.field}: ")) from None
    return _economy_rows(economy, catalogue)


def _json_economy(text: str) -> Economy:
    try:
        # Absurdly long integers become floats (inf past 1e308) so the engine
        # reports them against their field instead of overflowing.
        raw = json.loads(text, parse_int=lambda s: int(s) if len(s) <= 18 else float(s))
    except json.JSONDecodeError as exc:
        raise CapabilityImportError("file", None, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise CapabilityImportError("file", None, "is not valid JSON: nested too deeply") from None
    if isinstance(raw, dict):
        if raw.get("format", FORMAT) != FORMAT:
            raise CapabilityImportError("format", None, f"expected {FORMAT!r}, got {_show(str(raw['format']))}")
        # Needs and the budget belong to planning, not to what a council can make:
        # blank them so a mistake there cannot block importing capabilities.
        raw = {**raw, "needs": [], "labour_budget": 0}
    return economy_from_dict(raw)


def _npz_economy(data: bytes) -> Economy:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise CapabilityImportError("file", None, f"unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")
        # The engine reads .npz from a path only.
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "economy.npz"
            path.write_bytes(data)
            return load_economy(path)
    except (CapabilityImportError, EconomyError):
        raise
    except Exception as exc:  # an upload can be any zip: zipfile, zlib and numpy raise many kinds
        raise CapabilityImportError("file", None, f"is not a readable .npz economy file ({type(exc).__name__})") from None


def _economy_rows(economy: Economy, catalogue: frozenset[str]) -> list[CapabilityRow]:
    m = economy.n_workplaces
    if m == 0:
        raise CapabilityImportError("file", None, "has no capabilities: its list of workplaces is empty")
    if m > MAX_ROWS:
        raise CapabilityImportError("workplaces", None, f"has {m:,} workplaces; at most {MAX_ROWS:,} can be imported at once")
    names = economy.product_names
    a = economy.inputs.tocsc()
    a.sum_duplicates()
    made_by: dict[str, str] = {}
    rows = []
    for j in range(m):
        where = f"workplaces[{j}]"
        product = names[int(economy.workplace_product[j])]
        if product not in catalogue:
            raise CapabilityImportError(f"{where}.product", None, _unknown(product, catalogue))
        if product in made_by:
            raise CapabilityImportError(f"{where}.product", None, f"this council already makes {_show(product)} "
                                        f"({made_by[product]}); a council records one capability per product")
        made_by[product] = where
        labour = _at_most(float(economy.labour[j]), f"{where}.labour")
        capacity = _at_most(float(economy.capacity[j]), f"{where}.capacity")
        inputs = {}
        lo, hi = a.indptr[j], a.indptr[j + 1]
        for i, quantity in zip(a.indices[lo:hi], a.data[lo:hi]):
            if quantity == 0:
                continue
            name, quantity = names[int(i)], float(quantity)
            if name not in catalogue:
                raise CapabilityImportError(f"{where}.inputs", None, _unknown(name, catalogue))
            _at_most(quantity, f"{where}.inputs", f"{_show(name)}: ")
            if name == product and quantity >= 1:
                raise CapabilityImportError(f"{where}.inputs", None, _uses_itself(name, quantity))
            inputs[name] = quantity
        rows.append(CapabilityRow(product, labour, capacity, inputs, where))
    return rows


def _at_most(value: float, where: str, what: str = "") -> float:
    # The engine has already refused NaN, infinities and negatives.
    if value > MAX_NUMBER:
        raise CapabilityImportError(where, None, f"{what}must be at most {MAX_NUMBER:g}, got {value:g}")
    return value


# --- shared ------------------------------------------------------------------

def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise CapabilityImportError("file", None, f"is {size:,} bytes; the most that can be imported at once is {MAX_BYTES:,}")


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        _check_size(len(data.encode("utf-8", "surrogatepass")))
        text = data
    else:
        _check_size(len(data))
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CapabilityImportError(
                "file", None, f"is not UTF-8 text (byte {exc.start:,}); save it as UTF-8 (\"CSV UTF-8\")") from None
    return text.removeprefix("\ufeff")  # spreadsheets often start UTF-8 files with a byte-order mark


def _unknown(name: str, catalogue: frozenset[str]) -> str:
    # difflib is quadratic in the name's length; a name that long is no typo.
    close = difflib.get_close_matches(name, catalogue, n=5) if len(name) <= 200 else []
    hint = f"; did you mean {', '.join(close)}?" if close else "; add it to the catalogue first, or check the spelling"
    return f"{_show(name)} is not a product in the catalogue{hint}"


def _uses_itself(name: str, quantity: float) -> str:
    return (f"{_show(name)} uses {quantity:g} of itself per unit made: it would use at least as much "
            "as it makes (a product may be its own input only below 1 per unit)")


def _show(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")
