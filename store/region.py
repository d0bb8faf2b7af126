"""The Region type: a place in the administrative hierarchy (province / city / county).

A leaf module (standard library only) that every layer may import: records, matching,
message understanding and the dashboard all speak of the same Region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEVELS = ("province", "city", "county")


@dataclass(frozen=True, slots=True)
class Region:
    """A place in the administrative hierarchy; lower levels may be empty.

    A municipality (重庆市) is its own city: ``Region("重庆市", "重庆市", "万州区")``.
    The empty Region is the whole country.
    """

    province: str = ""
    city: str = ""
    county: str = ""

    @property
    def label(self) -> str:
        """The name as people write it: 四川省宜宾市翠屏区, 重庆市万州区 (no repeated city)."""
        parts = [self.province]
        if self.city and self.city != self.province:
            parts.append(self.city)
        if self.county:
            parts.append(self.county)
        return "".join(p for p in parts if p)

    @property
    def level(self) -> int:
        """How deep the region goes: 0 nationwide, 1 province, 2 city, 3 county."""
        return 3 if self.county else 2 if self.city else 1 if self.province else 0

    def __bool__(self) -> bool:
        return bool(self.province)

    def covers(self, other: Region) -> bool:
        """True when *other* lies inside this region (or is it); the nation covers nothing.

        Args:
            other: the region to test, e.g. where a need was posted.
        """
        if not self.province or self.province != other.province:
            return False
        if self.city and self.city != other.city:
            return False
        return not (self.county and self.county != other.county)

    def within(self, columns: Any) -> list[Any]:
        """Terms (for a WHERE) putting rows whose province / city / county *columns* inside
        this region; none for the whole country.

        Args:
            columns: anything with ``province``, ``city`` and ``county`` attributes, such as
                a SQLModel table class.
        """
        return [
            getattr(columns, level) == getattr(self, level)
            for level in LEVELS
            if getattr(self, level)
        ]

    def as_dict(self) -> dict[str, str]:
        """``{"province": ..., "city": ..., "county": ...}``, as stored in JSON slots."""
        return {"province": self.province, "city": self.city, "county": self.county}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Region:
        """The region a dict describes; missing keys, None and extra keys are tolerated.

        Args:
            data: e.g. ``{"province": "四川省", "city": "宜宾市"}``, or None.
        """
        if not data:
            return cls()
        province, city, county = (str(data.get(level) or "").strip() for level in LEVELS)
        return cls(province, city, county)
