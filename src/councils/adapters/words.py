"""Numbers, durations and shares as a person writes them, for every page (and the words of the record page).

Internal values must not leak onto pages: "1 day, 0:00:00", "0.250 of members", "-0.00%", "1.08e-12%" or
"725.5449 km" are what Python prints, not what a member reads."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

# A duration's units, each as the words for one and for several (the count is put in their place).
_UNITS = {
    "week": lambda n: ngettext("%(count)d week", "%(count)d weeks", n) % {"count": n},
    "day": lambda n: ngettext("%(count)d day", "%(count)d days", n) % {"count": n},
    "hour": lambda n: ngettext("%(count)d hour", "%(count)d hours", n) % {"count": n},
    "minute": lambda n: ngettext("%(count)d minute", "%(count)d minutes", n) % {"count": n},
    "second": lambda n: ngettext("%(count)d second", "%(count)d seconds", n) % {"count": n},
}


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, InvalidOperation):
        return None
    return number if math.isfinite(number) else None


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def duration(value) -> str:
    """A duration in the largest units that say it exactly (at most two): "2 days", "1 day and 6 hours",
    "90 minutes" becomes "1 hour and 30 minutes"; zero is "no time" (a vote that opens at once)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, timedelta):
        seconds = _number(value)
        if seconds is None:
            return str(value)
        value = timedelta(seconds=seconds)
    total = int(round(value.total_seconds()))
    if total == 0:
        return gettext("no time")
    negative, total = total < 0, abs(total)
    parts = []
    if total % (7 * 86400) == 0 and total < 53 * 7 * 86400:
        return _signed(negative, _UNITS["week"](total // (7 * 86400)))  # "2 weeks"; "10 days", not "1 week and 3 days"
    for size, one in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if total >= size:
            count, total = divmod(total, size)
            parts.append(_UNITS[one](count))
    if len(parts) > 2:  # round to the two largest units: a person does not say "1 day, 2 hours and 3 seconds"
        parts = parts[:2]
    text = parts[0] if len(parts) == 1 else gettext("%(first)s and %(second)s") % {"first": parts[0], "second": parts[1]}
    return _signed(negative, text)


def _signed(negative: bool, text: str) -> str:
    return gettext("minus %(duration)s") % {"duration": text} if negative else text


def percent(value, digits: int = 0) -> str:
    """A share (0.25) as a percentage ("25%"): no "-0%", no exponent; a small non-zero share is "under 1%"
    rather than a misleading "0%"."""
    number = _number(value)
    if number is None:
        return ""
    shown = number * 100
    if abs(shown) < 0.5 * 10 ** -digits:
        if shown == 0 or abs(shown) < 1e-9:
            return "0%"
        return gettext("under %(share)s") % {"share": _local(f"{10 ** -digits:g}") + "%"} if shown > 0 else "0%"
    text = f"{shown:.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return _local("0" if text in ("-0", "") else text) + "%"


def _local(text: str) -> str:
    """A number written with a point, with the decimal separator of the reader's language ("2.5" is "2,5" in German)."""
    whole, point, decimals = text.partition(".")
    return whole + (number_format(0.5)[1:-1] if point else "") + decimals


def quantity(value, unit: str = "", digits: int = 2) -> str:
    """A quantity with at most ``digits`` decimals, trailing zeros dropped, thousands separated with a thin space:
    725.5449 km is "725.54 km", 20000 kg is "20 000 kg", 1e-12 is "0"."""
    number = _number(value)
    if number is None:
        return "" if value in (None, "") else str(value)
    rounded = round(number, digits)
    if rounded == 0:
        rounded = 0.0
    whole, _, decimals = f"{abs(rounded):,.{digits}f}".partition(".")
    decimals = decimals.rstrip("0")
    text = ("-" if rounded < 0 else "") + whole.replace(",", "\u202f") + (_local(f"0.{decimals}")[1:] if decimals else "")
    return f"{text} {unit}".strip()


def share_of(value, whole: str = "members") -> str:
    """A quorum or threshold share: "25% of members"."""
    shown = percent(value, 1 if _number(value) is not None and round(_number(value) * 100, 1) % 1 else 0)
    if not shown:
        return ""
    if whole == "members":
        return gettext("%(share)s of members") % {"share": shown}
    return gettext("%(share)s of %(whole)s") % {"share": shown, "whole": whole}


def decimal_or_none(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
