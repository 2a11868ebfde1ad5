"""SVG charts of a count: what a member (or a screen reader) can read off them. No database."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from councils.tally import (
    Profile, tally_approval, tally_borda, tally_copeland, tally_irv, tally_plurality, tally_ranked_pairs,
    tally_schulze, tally_score, tally_stv_meek, tally_stv_scottish,
)
from councils.adapters.charts import pairwise_chart, result_chart, rounds_chart, totals_chart

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> str:
    """Everything drawn as text, as a sighted member reads it (tooltips left out)."""
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def desc(root: ET.Element) -> str:
    return root.find(f"{SVG}desc").text


def profile(options, groups) -> Profile:
    return Profile.from_rankings(options, [list(r) for r, n in groups for _ in range(n)])


def tennessee() -> dict:
    names = ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
    return tally_irv(profile(names, [(names, 42), (["Nashville", "Chattanooga", "Knoxville", "Memphis"], 26),
                                     (["Chattanooga", "Knoxville", "Nashville", "Memphis"], 15),
                                     (["Knoxville", "Chattanooga", "Nashville", "Memphis"], 17)])).to_dict()


def food_election() -> dict:
    groups = [(["Orange"], 4), (["Pear", "Orange"], 2), (["Chocolate", "Strawberry"], 8),
              (["Chocolate", "Hamburger"], 4), (["Strawberry"], 1), (["Hamburger"], 1)]
    return tally_stv_scottish(profile(["Orange", "Pear", "Chocolate", "Strawberry", "Hamburger"], groups), 3,
                              seed=0).to_dict()


def schulze_45() -> Profile:
    groups = [("ACBED", 5), ("ADECB", 5), ("BEDAC", 8), ("CABED", 3), ("CAEBD", 7), ("CBADE", 2),
              ("DCEBA", 7), ("EBADC", 8)]
    return profile("ABCDE", groups)


def test_every_chart_is_an_accessible_image_with_title_and_desc():
    for result in (tennessee(), food_election(), tally_schulze(schulze_45(), seed=1).to_dict()):
        root = parse(result_chart(result, title="Who goes"))
        assert root.get("role") == "img" and root.get("aria-label").startswith("Who goes.")
        assert root.find(f"{SVG}title").text == "Who goes"
        assert root.get("viewBox") and root.get("width") == "100%"
        svg = str(result_chart(result, title="Who goes"))
        assert " style=" not in svg and "<style" not in svg  # the site's CSP refuses both


def test_irv_chart_shows_each_round_the_exclusions_and_the_transfers():
    result = tennessee()
    root = parse(rounds_chart(result, title="Capital"))
    drawn = texts(root)
    for name in ("Memphis", "Nashville", "Chattanooga", "Knoxville"):
        assert name in drawn
    assert all(f"Round {n}" in drawn for n in (1, 2, 3))
    assert "✗ 15" in drawn  # Chattanooga out in round 1
    assert "+15" in drawn and "−15" in drawn  # its votes go to Knoxville
    assert "✓ 58" in drawn and "✓ Knoxville" in drawn
    words = desc(root)
    assert "Winner: Knoxville." in words and "Excluded: Chattanooga." in words
    assert "votes of Chattanooga transferred (Knoxville +15" in words


def test_scottish_stv_chart_shows_the_quota_surplus_and_all_elected():
    result = food_election()
    root = parse(result_chart(result, title="Food"))
    drawn = texts(root)
    assert "quota 6" in drawn  # in the subtitle, and as the dashed line of the legend
    dashed = [line for line in root.iter(f"{SVG}line") if line.get("stroke-dasharray") == "5 3"]
    assert dashed, "the quota is drawn as a dashed line"
    assert "✓ 12" in drawn  # Chocolate over the quota at once
    assert "−6" in drawn and "+4" in drawn and "+2" in drawn  # the surplus of 6 moves at 0.5
    for name in ("Chocolate", "Orange", "Strawberry"):
        assert f"✓ {name}" in drawn
    assert "Elected: Chocolate, Orange, Strawberry." in desc(root)
    assert "Exhausted" in drawn


def test_meek_stv_chart_shows_each_rounds_quota():
    groups = [(["Andrea"], 25), (["Carter", "Brad", "Delilah"], 34), (["Brad", "Delilah"], 7),
              (["Delilah", "Brad"], 8), (["Delilah", "Scott"], 5), (["Scott", "Delilah"], 21)]
    result = tally_stv_meek(profile(["Andrea", "Carter", "Brad", "Delilah", "Scott"], groups), 3, seed=0).to_dict()
    root = parse(result_chart(result, title="Board"))
    assert "final quota 24.75" in texts(root)
    assert "Quota 24.75." in desc(root)
    assert sorted(result["winners"]) == ["Andrea", "Carter", "Scott"]
    assert all(f"✓ {name}" in texts(root) for name in result["winners"])


def test_long_count_wraps_into_panels_and_keeps_every_round():
    names = [f"Option {i}" for i in range(12)]
    # Each option's supporters rank the next one second, so every exclusion transfers.
    groups = [([names[i], names[(i + 1) % 12]], 10 + i) for i in range(12)]
    result = tally_irv(profile(names, groups)).to_dict()
    assert len(result["rounds"]) == 11
    root = parse(rounds_chart(result, title="Long count"))
    drawn = texts(root)
    assert all(f"Round {n}" in drawn for n in range(1, 12))
    assert all(name in drawn for name in names)
    width = float(root.get("viewBox").split()[2])
    assert width < 560, "four rounds to a panel keeps the chart narrow enough for a phone"


def test_pairwise_chart_orders_by_ranking_and_colours_wins_and_losses():
    result = tally_schulze(schulze_45(), seed=1).to_dict()
    root = parse(pairwise_chart(result, title="Schulze"))
    rows = [t for t in root.iter(f"{SVG}text") if (t.text or "").startswith(("1. ", "2. ", "3. ", "4. ", "5. "))]
    assert [t.text for t in rows] == ["1. ✓ E", "2. A", "3. C", "4. B", "5. D"]
    cells = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    # Every pair is once won, once lost (no ties here); plus one swatch of each in the legend.
    assert cells.count("#cfe9d6") == cells.count("#f6d5d1") == 10 + 1
    e_row = [t.text for t in root.iter(f"{SVG}text") if t.get("y") == rows[0].get("y")][1:]
    assert e_row == ["–", "23", "21", "27", "31"]  # E over E, A, C, B, D, as in Schulze (2011)
    words = desc(root)
    assert "Winner: E." in words and "E beats A 23 to 22" in words


@pytest.mark.parametrize("tally", [tally_ranked_pairs, tally_copeland])
def test_other_condorcet_methods_get_the_pairwise_grid(tally):
    result = tally(schulze_45(), seed=1).to_dict()
    root = parse(result_chart(result, title="Pairs"))
    assert "Each cell: ballots preferring row to column." in texts(root)
    assert f"Winner: {result['winners'][0]}." in desc(root)


def test_approval_chart_sorts_descending_and_marks_the_winner():
    ballots = [{"Picnic", "Hike"}, {"Hike"}, {"Cinema", "Hike"}, {"Picnic"}]
    result = tally_approval(["Picnic", "Cinema", "Hike"], ballots, seed=0).to_dict()
    root = parse(result_chart(result, title="Outing"))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.text in {"Picnic", "Cinema", "Hike"}]
    assert labels == ["Hike", "Picnic", "Cinema"]
    assert "3 (75%)" in texts(root) and "✓ winner" in texts(root)
    assert "Winner: Hike." in desc(root) and "Hike 3 (75%) (winner)" in desc(root)


def test_score_chart_gives_totals_and_means():
    result = tally_score(["Red", "Green", "Blue"], [[5, 3, 0], [4, 5, 1], [0, 2, 5]], max_score=5, seed=0).to_dict()
    root = parse(totals_chart(result, title="Colour"))
    assert "10, mean 3.33" in texts(root)
    assert "Winner: Green." in desc(root)


@pytest.mark.parametrize("tally", [tally_plurality, tally_borda])
def test_ranked_totals_methods_get_bars(tally):
    result = tally(schulze_45(), seed=1).to_dict()
    root = parse(result_chart(result, title="Totals"))
    assert root.find(f"{SVG}rect") is not None
    assert f"✓ {'winner'}" in texts(root) and f"Winner: {result['winners'][0]}." in desc(root)


def test_a_tie_settled_by_lot_is_said_so():
    result = tally_plurality(profile(["A", "B"], [("AB", 3), ("BA", 3)]), seed=4).to_dict()
    root = parse(result_chart(result, title="Tie"))
    assert "settled by lot" in texts(root) and "settled by lot" in desc(root)


@pytest.mark.parametrize("build", [
    lambda names: tally_irv(profile(names, [(names, 3), (names[::-1], 2), ([names[1], names[0]], 1)])),
    lambda names: tally_stv_scottish(profile(names, [(names, 5), (names[::-1], 3)]), 2, seed=0),
    lambda names: tally_schulze(profile(names, [(names, 3), (names[::-1], 2)]), seed=0),
    lambda names: tally_approval(names, [set(names[:2])], seed=0),
])
def test_members_labels_come_out_escaped(build):
    names = [EVIL, "Ann & Bo", 'Say "hi"']
    svg = str(result_chart(build(names).to_dict(), title=f"Vote {EVIL}"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)  # escaped text is still well-formed XML
    assert EVIL in texts(root) + desc(root) and "Ann & Bo" in texts(root)
    assert root.find(f"{SVG}title").text == f"Vote {EVIL}"


def test_result_chart_picks_the_chart_for_the_method():
    assert "Round 1" in result_chart(tennessee(), title="t")
    assert "row to column" in result_chart(tally_copeland(schulze_45()).to_dict(), title="t")
    assert "per option" in result_chart(tally_borda(schulze_45()).to_dict(), title="t")
    # Method names spelt as the command line spells them work too.
    assert "Round 1" in result_chart({**food_election(), "method": "stv-scottish"}, title="t")


def test_majority_result_falls_back_to_yes_no_bars():
    svg = result_chart({"method": "majority", "yes": 5, "no": 2, "abstain": 1}, title="Motion")
    assert "Yes: 5, No: 2, Abstain: 1" in svg
