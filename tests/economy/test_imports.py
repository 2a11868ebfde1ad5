"""Importing a council's capabilities from CSV and from the engine's economy file."""
from __future__ import annotations

import csv
import io
import json
import math
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from councils.economy.imports import (
    MAX_BYTES, MAX_NUMBER, MAX_ROWS, CapabilityImportError, CapabilityRow, parse_capabilities,
    parse_capabilities_csv, parse_capabilities_economy,
)
from councils.planning import synthetic_economy
from councils.planning.io import economy_from_dict, economy_to_dict, save_economy

CATALOGUE = frozenset({"bread", "flour", "water", "grain", "salt", "yeast", "oven time"})


def fails(data, fmt="csv", catalogue=CATALOGUE) -> CapabilityImportError:
    with pytest.raises(CapabilityImportError) as info:
        parse_capabilities(data, catalogue, fmt)
    return info.value


# --- CSV: accepted forms -----------------------------------------------------

def test_comma_csv_with_inputs_column():
    rows = parse_capabilities_csv(
        "product,labour,capacity,inputs\n"
        'bread,0.5,200,"flour=1.3; water=0.5"\n'
        "flour,0.2,500,grain=1.4\n"
        "water,0,1e4,\n",
        CATALOGUE,
    )
    assert rows == [
        CapabilityRow("bread", 0.5, 200.0, {"flour": 1.3, "water": 0.5}, "row 2"),
        CapabilityRow("flour", 0.2, 500.0, {"grain": 1.4}, "row 3"),
        CapabilityRow("water", 0.0, 10000.0, {}, "row 4"),
    ]


def test_semicolon_csv_with_decimal_commas_and_wide_input_columns():
    rows = parse_capabilities_csv(
        "product;labour;capacity;input:flour;input:water;inputs\n"
        'bread;0,5;200;1,3;;"salt=0,02; yeast = 0,01"\n'
        "flour;1.25;500;;0;\n",
        CATALOGUE,
    )
    assert rows == [
        CapabilityRow("bread", 0.5, 200.0, {"flour": 1.3, "salt": 0.02, "yeast": 0.01}, "row 2"),
        CapabilityRow("flour", 1.25, 500.0, {}, "row 3"),  # an input of 0 is dropped
    ]


def test_tab_delimited_with_a_product_name_containing_a_space():
    rows = parse_capabilities_csv("product\tlabour\tcapacity\tinput:oven time\nbread\t0.5\t200\t0,1\n", CATALOGUE)
    assert rows == [CapabilityRow("bread", 0.5, 200.0, {"oven time": 0.1}, "row 2")]


@pytest.mark.parametrize("data", [
    b"\xef\xbb\xbfproduct,labour,capacity\r\nbread,1,2\r\n",
    "\ufeffproduct,labour,capacity\nbread,1,2\n",
])
def test_byte_order_mark_and_crlf(data):
    assert parse_capabilities_csv(data, CATALOGUE) == [CapabilityRow("bread", 1.0, 2.0, {}, "row 2")]


@pytest.mark.parametrize("labour, capacity", [
    ("labour_hours", "capacity_per_period"), (" Hours_Per_Unit ", "CAPACITY"), ("LABOUR", " Capacity_Per_Period"),
])
def test_header_aliases_are_case_insensitive_and_trimmed(labour, capacity):
    rows = parse_capabilities_csv(f" PRODUCT ,{labour},{capacity},INPUT:flour\nbread,1,2,3\n", CATALOGUE)
    assert rows == [CapabilityRow("bread", 1.0, 2.0, {"flour": 3.0}, "row 2")]


def test_blank_lines_are_skipped_but_counted():
    text = "product,labour,capacity\n\nbread,1,2\n,,\n  \nflour,1,2\n\n"
    assert [r.where for r in parse_capabilities_csv(text, CATALOGUE)] == ["row 3", "row 6"]
    error = fails("product,labour,capacity\n\nbread,1,2\n\nflour,1,-2\n")
    assert (error.where, error.column) == ("row 5", "capacity")


def test_short_rows_are_padded_and_inputs_forms_mix():
    rows = parse_capabilities_csv("product,labour,capacity,inputs,input:salt\nbread,1,2\nflour,1,2,grain=2;,0.5\n", CATALOGUE)
    assert rows[0].inputs == {} and rows[1].inputs == {"grain": 2.0, "salt": 0.5}


def test_a_product_may_use_less_than_one_unit_of_itself():
    rows = parse_capabilities_csv("product,labour,capacity,inputs\ngrain,1,100,grain=0.05\n", CATALOGUE)
    assert rows[0].inputs == {"grain": 0.05}


def test_number_limits_are_inclusive():
    rows = parse_capabilities_csv(f"product,labour,capacity\nbread,-0,{MAX_NUMBER:.0f}\n", CATALOGUE)
    assert rows[0].capacity == MAX_NUMBER and math.copysign(1, rows[0].labour) == 1


# --- CSV: errors name the row and column ----------------------------------------

HEAD = "product,labour,capacity,inputs\n"


@pytest.mark.parametrize("text, where, column, fragment", [
    ("product,labour,capacity,colour\nbread,1,2,red\n", "row 1", "colour", "unknown column"),
    ("product,capacity\nbread,2\n", "row 1", "labour", "missing"),
    ("labour,capacity\n1,2\n", "row 1", "product", "missing"),
    ("product,labour,capacity,Labour_Hours\n", "row 1", "Labour_Hours", "repeats the column labour"),
    ("product,labour,capacity,input:flour,input: flour\n", "row 1", "input: flour", "repeats"),
    ("product,labour,capacity,input:\n", "row 1", "input:", "names no product"),
    ("product,labour,capacity,input:sugar\nbread,1,2,3\n", "row 1", "input:sugar", "not a product"),
    (HEAD + "bread,1,2\nbred,1,2\n", "row 3", "product", "'bred' is not a product in the catalogue; did you mean bread?"),
    (HEAD + ",1,2\n", "row 2", "product", "is empty"),
    (HEAD + "bread,1,2\nflour,1,2\nbread,3,4\n", "row 4", "product", "already listed on row 2"),
    (HEAD + "bread,,2\n", "row 2", "labour", "is empty"),
    (HEAD + "bread,1,lots\n", "row 2", "capacity", "'lots' is not a number"),
    (HEAD + 'bread,"0,5",2\n', "row 2", "labour", "use a point for decimals"),
    (HEAD + "bread,1,5,,3\n", "row 2", None, "has 5 fields but the header has 4"),
    (HEAD + "bread,NaN,2\n", "row 2", "labour", "must be a finite number"),
    (HEAD + "bread,1,-inf\n", "row 2", "capacity", "must be a finite number"),
    (HEAD + "bread,1,Infinity\n", "row 2", "capacity", "must be a finite number"),
    (HEAD + "bread,-0.5,2\n", "row 2", "labour", "must not be negative, got '-0.5'"),
    (HEAD + "bread,1,2e12\n", "row 2", "capacity", "must be at most 1e+12"),
    (HEAD + "bread,1,1e999\n", "row 2", "capacity", "must be at most 1e+12"),
    (HEAD + "bread,1,1_000\n", "row 2", "capacity", "is not a number"),
    (HEAD + "bread,1,2,sugar=1\n", "row 2", "inputs", "'sugar' is not a product"),
    (HEAD + "bread,1,2,flour\n", "row 2", "inputs", "should be written name=quantity"),
    (HEAD + "bread,1,2,=1\n", "row 2", "inputs", "should be written name=quantity"),
    (HEAD + "bread,1,2,flour=-1\n", "row 2", "inputs", "'flour': must not be negative"),
    (HEAD + "bread,1,2,flour=x\n", "row 2", "inputs", "'flour': 'x' is not a number"),
    (HEAD + "bread,1,2,flour=1;flour=2\n", "row 2", "inputs", "gives the input 'flour' a second time"),
    ("product,labour,capacity,inputs,input:flour\nbread,1,2,flour=1,2\n", "row 2", "input:flour", "second time"),
    (HEAD + "bread,1,2,bread=1\n", "row 2", "inputs", "it would use at least as much as it makes"),
    ("product,labour,capacity,input:bread\nbread,1,2,1.5\n", "row 2", "input:bread", "uses 1.5 of itself"),
    ("product,labour,capacity,\nbread,1,2,x\n", "row 2", "4", "no heading"),
    ("product;labour;capacity;inputs\nbread;1;2;flour=1,3; water=0,5\n", "row 2", None, "has 5 fields"),
    ("product,labour,capacity\n", "file", None, "has no capabilities"),
    ("", "file", None, "has no capabilities"),
    ("\n\n,,\n", "file", None, "has no capabilities"),
])
def test_csv_errors_name_the_row_and_column(text, where, column, fragment):
    error = fails(text)
    assert (error.where, error.column) == (where, column)
    assert fragment in error.message
    assert str(error) == (f"{where}, column {column}: {error.message}" if column else f"{where}: {error.message}")


def test_unknown_product_lists_up_to_five_close_names():
    catalogue = {f"bread {i}" for i in range(9)}
    error = fails("product,labour,capacity\nbread,1,2\n", catalogue=catalogue)
    suggestions = error.message.split("did you mean ")[1].rstrip("?").split(", ")
    assert len(suggestions) == 5 and set(suggestions) <= catalogue
    assert "check the spelling" in fails("product,labour,capacity\nzzz,1,2\n").message


def test_not_utf8():
    error = fails(b"product,labour,capacity\nbr\xe9ad,1,2\n")
    assert (error.where, error.column) == ("file", None) and error.message.startswith("is not UTF-8 text")


def test_too_large():
    error = fails("product,labour,capacity\n" + "x" * MAX_BYTES)
    assert error.where == "file" and "bytes" in error.message
    assert fails(b"x" * (MAX_BYTES + 1), "economy").where == "file"


def test_too_many_rows():
    catalogue = {f"p{i}" for i in range(MAX_ROWS + 1)}
    body = "".join(f"p{i},1,1\n" for i in range(MAX_ROWS))
    assert len(parse_capabilities_csv("product,labour,capacity\n" + body, catalogue)) == MAX_ROWS
    error = fails(f"product,labour,capacity\n{body}p{MAX_ROWS},1,1\n", catalogue=catalogue)
    assert error.where == "file" and "more than 10,000 rows" in error.message


def test_csv_reader_errors_name_the_row():
    error = fails('product,labour,capacity\nbread,1,2\nflour,1,"' + "x" * 200_000 + '"\n')
    assert error.where == "row 3" and "cannot be read as CSV" in error.message


# --- the error type and the dispatcher -----------------------------------------

def test_error_field_str_and_pickle():
    error = CapabilityImportError("row 4", "capacity", "must not be negative")
    assert (error.field, str(error)) == ("row 4, column capacity", "row 4, column capacity: must not be negative")
    bare = CapabilityImportError("workplaces[2].labour", None, "missing")
    assert (bare.field, str(bare)) == ("workplaces[2].labour", "workplaces[2].labour: missing")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.where, copy.column, copy.message, str(copy)) == (error.where, error.column, error.message, str(error))


def test_unknown_format():
    error = fails("product,labour,capacity\nbread,1,2\n", "xlsx")
    assert (error.where, error.column) == ("file", "format") and "'xlsx'" in error.message


# --- economy file ---------------------------------------------------------------

def one_workplace_per_product(seed=1) -> dict:
    """The tiny synthetic economy, keeping the first technique of each product."""
    data = economy_to_dict(synthetic_economy("tiny", seed=seed))
    made, kept = set(), []
    for w in data["workplaces"]:
        if w["product"] not in made:
            made.add(w["product"])
            kept.append(w)
    return {**data, "workplaces": kept}


def expected_rows(data: dict) -> list[CapabilityRow]:
    return [CapabilityRow(w["product"], w["labour"], w["capacity"], {k: v for k, v in w["inputs"].items() if v},
                          f"workplaces[{j}]") for j, w in enumerate(data["workplaces"])]


def test_json_economy_round_trip():
    data = one_workplace_per_product()
    catalogue = {p["name"] for p in data["products"]}
    assert len(data["workplaces"]) > 3 and any(w["inputs"] for w in data["workplaces"])
    for encoded in (json.dumps(data), json.dumps(data).encode(), b"\xef\xbb\xbf" + json.dumps(data).encode()):
        assert parse_capabilities(encoded, catalogue, "economy") == expected_rows(data)


def test_npz_economy_round_trip(tmp_path):
    data = one_workplace_per_product(seed=2)
    save_economy(economy_from_dict(data), tmp_path / "e.npz")
    catalogue = {p["name"] for p in data["products"]}
    assert parse_capabilities_economy((tmp_path / "e.npz").read_bytes(), catalogue) == expected_rows(data)


def test_hand_written_economy_without_needs_or_budget():
    data = {"products": [{"name": "grain"}, {"name": "flour"}, {"name": "bread"}],
            "workplaces": [{"product": "flour", "labour": 0.2, "capacity": 500, "inputs": {"grain": 1.3, "flour": 0}},
                           {"product": 2, "labour": 0.5, "capacity": 200, "inputs": [[1, 0.8], ["bread", 0.01]]}]}
    assert parse_capabilities_economy(json.dumps(data), CATALOGUE) == [
        CapabilityRow("flour", 0.2, 500.0, {"grain": 1.3}, "workplaces[0]"),
        CapabilityRow("bread", 0.5, 200.0, {"flour": 0.8, "bread": 0.01}, "workplaces[1]"),
    ]
    # needs and the budget are planning matters: even malformed ones are ignored
    assert len(parse_capabilities_economy(json.dumps({**data, "needs": "oops", "labour_budget": -1}), CATALOGUE)) == 2


def economy(*workplaces, products=("grain", "flour", "bread")) -> str:
    return json.dumps({"products": [{"name": p} for p in products], "workplaces": list(workplaces)})


@pytest.mark.parametrize("text, where, fragment", [
    (economy({"product": "flour", "labour": 1, "capacity": -5}), "workplaces[0].capacity", "non-negative"),
    (economy({"product": "flour", "capacity": 5}), "workplaces[0].labour", "missing"),
    (economy({"product": "flour", "labour": 1, "capacity": 5},
             {"product": "bread", "labour": "1", "capacity": 5}), "workplaces[1].labour", "must be a number"),
    (economy({"product": "rye", "labour": 1, "capacity": 5}), "workplaces[0].product", "unknown product"),
    (economy({"product": "flour", "labour": 1, "capacity": 5, "inputs": {"rye": 1}}), "workplaces[0].inputs", "unknown"),
    (economy({"product": "flour", "labour": 1, "capacity": 5, "inputs": 3}), "workplaces[0].inputs", "must map"),
    (economy({"product": "flour", "labour": 1, "capacity": 5}, products=("flour", "rye")), "file", None),
    (economy({"product": "rye", "labour": 1, "capacity": 5}, products=("rye", "flour")),
     "workplaces[0].product", "'rye' is not a product in the catalogue"),
    (economy({"product": "bread", "labour": 1, "capacity": 5, "inputs": {"rye": 1}}, products=("rye", "bread")),
     "workplaces[0].inputs", "'rye' is not a product in the catalogue"),
    (economy({"product": "flour", "labour": 1, "capacity": 5}, {"product": "bread", "labour": 1, "capacity": 5},
             {"product": "flour", "labour": 2, "capacity": 9}),
     "workplaces[2].product", "this council already makes 'flour' (workplaces[0]); a council records one capability"),
    (economy({"product": "flour", "labour": 1, "capacity": 2e12}), "workplaces[0].capacity", "at most 1e+12"),
    (economy({"product": "flour", "labour": 1, "capacity": 5, "inputs": {"grain": 2e12}}),
     "workplaces[0].inputs", "'grain': must be at most"),
    (economy({"product": "flour", "labour": 1, "capacity": 10 ** 400}), "workplaces[0].capacity", "non-negative"),
    (economy(), "file", "has no capabilities"),
    (json.dumps({"workplaces": []}), "products", "missing"),
    (json.dumps([1, 2]), "(top level)", "JSON object"),
    (json.dumps({"format": "something-else"}), "format", "expected 'councils-economy'"),
    ('{"products": [\n  {"name": "flour"},,\n]}', "file", "is not valid JSON: Expecting value at line 2 column 21"),
    ("[" * 100_000, "file", "is not valid JSON"),
    (b"{\"products\": \"\xff\"}", "file", "is not UTF-8 text"),
    (b"PK\x03\x04 not really a zip", "file", "is not a readable .npz economy file"),
])
def test_economy_errors_name_the_field(text, where, fragment):
    if fragment is None:  # rye is in the file but no workplace uses it: fine
        assert len(parse_capabilities_economy(text, CATALOGUE)) == 1
        return
    error = fails(text, "economy")
    assert (error.where, error.column) == (where, None)
    assert fragment in error.message
    assert error.field == where and str(error) == f"{where}: {error.message}"


def test_economy_self_input_of_one_or_more_is_refused():
    text = economy({"product": "flour", "labour": 1, "capacity": 5, "inputs": {"flour": 1.0}})
    error = fails(text, "economy")  # the engine itself refuses an unproductive cycle
    assert error.where.startswith("workplaces") and error.column is None


def test_synthetic_economy_with_several_techniques_per_product_is_refused():
    data = economy_to_dict(synthetic_economy("tiny", seed=1))
    error = fails(json.dumps(data), "economy", catalogue={p["name"] for p in data["products"]})
    assert error.where.startswith("workplaces[") and error.where.endswith("].product")
    assert "already makes" in error.message


# --- fuzz: nothing but CapabilityImportError escapes ------------------------------

FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def check(data, fmt):
    try:
        rows = parse_capabilities(data, CATALOGUE, fmt)
    except CapabilityImportError as error:
        assert error.where and error.message
        return
    assert rows and len({r.product for r in rows}) == len(rows)
    for r in rows:
        assert r.product in CATALOGUE and set(r.inputs) <= CATALOGUE
        for value in (r.labour, r.capacity, *r.inputs.values()):
            assert math.isfinite(value) and 0 <= value <= MAX_NUMBER
        assert all(q > 0 for q in r.inputs.values())


@FUZZ
@given(st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b), st.sampled_from(["csv", "economy"]))
def test_fuzz_bytes(data, fmt):
    check(data, fmt)


def mostly(good, bad):
    """`good` nine times in ten, so most cases get past the header to the row checks."""
    return st.integers(0, 9).flatmap(lambda k: good if k else bad)


NUMBER_CELLS = mostly(st.sampled_from(["1", "0.5", " 2 ", "0", "1e3"]),
                      st.sampled_from(["-1", "nan", "inf", "1e13", "1e999", "", "0,5", "x"]) | st.text(max_size=4))
NAME_CELLS = mostly(st.sampled_from(["bread", "flour", "salt", "water", "grain", " yeast "]),
                    st.sampled_from(["bred", "", "\x00", "\ufeff"]) | st.text(max_size=4))
INPUT_CELLS = st.lists(st.tuples(NAME_CELLS, NUMBER_CELLS).map("=".join) | NAME_CELLS, max_size=3).map("; ".join)
COLUMNS = {"product": NAME_CELLS, "labour": NUMBER_CELLS, "capacity": NUMBER_CELLS, "labour_hours": NUMBER_CELLS,
           "inputs": INPUT_CELLS, "input:salt": NUMBER_CELLS, "input:bread": NUMBER_CELLS, "input:": NUMBER_CELLS,
           "": mostly(st.just(""), NUMBER_CELLS), "colour": NAME_CELLS}


@st.composite
def csv_texts(draw):
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    extra = draw(mostly(st.lists(st.sampled_from(["inputs", "input:salt", "input:bread", ""]), unique=True, max_size=3),
                        st.lists(st.sampled_from(list(COLUMNS)[3:]), max_size=2)))
    header = draw(st.permutations(["product", "labour", "capacity"] + extra))
    rows = [header] + [[draw(COLUMNS[c]) for c in header] + draw(mostly(st.just([]), st.just(["x"])))
                       for _ in range(draw(st.integers(0, 4)))]
    if draw(st.booleans()):  # quoted as a spreadsheet would
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        return out.getvalue()
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(delimiter.join(row) for row in rows)


@FUZZ
@given(csv_texts() | csv_texts() | st.text(max_size=200))
def test_fuzz_csv_text(text):
    check(text, "csv")
    check(text.encode("utf-8", "surrogatepass"), "csv")


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
    | st.sampled_from(["flour", "bread", "grain", "rye"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
NAMES = st.sampled_from(["flour", "bread", "grain", "salt", "rye"])
NUMBERS = mostly(st.floats(0, 10), st.sampled_from([0, 1, -1, 2e12, 10 ** 30]) | st.floats() | JSONISH)
WORKPLACES = st.fixed_dictionaries(
    {"product": mostly(NAMES, st.integers(-1, 5) | JSONISH), "labour": NUMBERS, "capacity": NUMBERS},
    optional={"inputs": mostly(st.dictionaries(NAMES, st.floats(0, 0.9), max_size=3),
                               st.lists(st.tuples(NAMES, NUMBERS), max_size=3) | JSONISH),
              "hours": NUMBERS, "name": JSONISH},
)
ECONOMIES = st.fixed_dictionaries(
    {"products": st.lists(NAMES, unique=True, min_size=1, max_size=5).map(lambda ns: [{"name": n} for n in ns]),
     "workplaces": st.lists(WORKPLACES, max_size=4)},
    optional={"needs": JSONISH, "labour_budget": JSONISH, "format": st.just("councils-economy")},
)


@FUZZ
@given(mostly(ECONOMIES, JSONISH))
def test_fuzz_economy_json(value):
    check(json.dumps(value), "economy")


@pytest.fixture(scope="module")
def npz_file(tmp_path_factory):
    data = one_workplace_per_product()
    path = tmp_path_factory.mktemp("npz") / "e.npz"
    save_economy(economy_from_dict(data), path)
    return path.read_bytes(), frozenset(p["name"] for p in data["products"])


@FUZZ
@given(st.data())
def test_fuzz_corrupted_npz(npz_file, data):
    npz_bytes, catalogue = npz_file
    blob = bytearray(npz_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        blob[data.draw(st.integers(2, len(blob) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(2, len(blob)))
    try:
        parse_capabilities_economy(bytes(blob[:cut]), catalogue)
    except CapabilityImportError as error:
        assert error.where
