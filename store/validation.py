"""Validation of free text, phone numbers and regions before they reach a table."""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import unicodedata
from functools import lru_cache
from typing import Any

from store import phone
from store.errors import InvalidInput
from store.region import Region

__all__ = [
    "MAX_TEXT",
    "Region",
    "child_level",
    "child_regions",
    "clean_text",
    "gazetteer",
    "jionlp_module",
    "normalise_text",
    "normalize_phone",
    "validate_region",
]

MAX_TEXT = 5000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")


def normalise_text(value: str) -> str:
    """Control and invisible characters removed, NFC-normalised, surrounding space stripped."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", value)).strip()


def clean_text(value: str | None, *, field: str = "text", max_len: int = MAX_TEXT) -> str:
    """Strip control characters and surrounding space; refuse empty or over-long text."""
    if value is None:
        raise InvalidInput(field, value, "must not be empty")
    text = normalise_text(str(value))
    if not text:
        raise InvalidInput(field, value, "must not be empty")
    if len(text) > max_len:
        raise InvalidInput(field, f"<{len(text)} characters>", f"longer than {max_len} characters")
    return text


def normalize_phone(value: str) -> str:
    """Return a mainland mobile (11 digits) or landline (0 + area code + number) as digits.

    Any format :func:`store.phone.normalise` reads is accepted (separators, +86,
    full-width digits, Chinese numerals).

    Raises:
        InvalidInput: when the number is neither.
    """
    try:
        return phone.normalise(str(value))
    except ValueError:
        raise InvalidInput("phone", value, "not a mainland mobile or landline number") from None


@lru_cache(maxsize=1)
def jionlp_module() -> Any:
    """jionlp, imported once and lazily (it costs about a second) without its stdout banner."""
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp
    return jionlp


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, dict[str, set[str]]]:
    """province -> city -> set of counties, from jionlp's bundled administrative data."""
    raw: dict[str, Any] = jionlp_module().china_location_loader(detail=False)
    out: dict[str, dict[str, set[str]]] = {}
    for prov, cities in raw.items():
        out[prov] = {
            city: {c for c in counties if not c.startswith("_")}
            for city, counties in cities.items()
            if not city.startswith("_")
        }
    return out


def _check(level: str, value: str, known: set[str] | dict[str, Any]) -> None:
    if value not in known:
        near = difflib.get_close_matches(value, list(known), n=3, cutoff=0.3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise InvalidInput(level, value, f"unknown {level}{hint}")


def validate_region(province: str = "", city: str = "", county: str = "") -> Region:
    """Check that a province / city / county triple exists and nests correctly.

    Raises:
        InvalidInput: naming the first level that is unknown or does not belong to its parent.
    """
    province, city, county = (province or "").strip(), (city or "").strip(), (county or "").strip()
    if not province:
        if city or county:
            raise InvalidInput("province", province, "required when city or county is given")
        return Region()
    gaz = gazetteer()
    _check("province", province, gaz)
    if city:
        _check("city", city, gaz[province])
        if county:
            _check("county", county, gaz[province][city])
    elif county:
        raise InvalidInput("city", city, "required when county is given")
    return Region(province, city, county)


def child_regions(region: Region) -> list[Region]:
    """The regions one level below *region*, in the gazetteer's order.

    A municipality (重庆市) is its own single city, so its children are its districts.
    """
    gaz = gazetteer()
    if not region:
        return [Region(p) for p in gaz]
    if region.county:
        return []
    if region.city:
        return [Region(region.province, region.city, c) for c in gaz[region.province][region.city]]
    cities = gaz[region.province]
    if list(cities) == [region.province]:
        only = region.province
        return [Region(only, only, c) for c in cities[only]]
    return [Region(region.province, c) for c in cities]


def child_level(children: list[Region]) -> str | None:
    """The level ("province", "city" or "county") that *children* (of one region) differ at."""
    if not children:
        return None
    first = children[0]
    return "county" if first.county else "city" if first.city else "province"
