"""Find places in free text and resolve them to province / city / county.

Names and short forms come from jionlp's bundled administrative data (the same data behind
``jionlp.parse_location``): 宜宾翠屏 -> 四川省 宜宾市 翠屏区, 合江 -> 四川省 泸州市 合江县,
万州 -> 重庆市 重庆市 万州区. Sichuan and Chongqing win when a short name exists elsewhere too;
when it is still ambiguous the caller asks which one was meant.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from store.region import Region
from store.validation import jionlp_module

HOME = ("四川省", "重庆市")
_COUNTY_SUFFIX = re.compile(r"(?:自治县|县|区|市)$")
# short forms too plain to name a home county by themselves (市中区 must be said in full)
_EVERYDAY = frozenset({"市中", "城区", "高新", "开发", "新区", "郊区", "矿区", "中心", "天府新"})
MUNICIPALITIES = frozenset({"北京市", "上海市", "天津市", "重庆市"})
# Short forms that are also everyday words; only their full names count.
_COMMON = frozenset(
    [
        "和平",
        "中山",
        "新城",
        "河口",
        "城中",
        "城区",
        "东区",
        "西区",
        "南区",
        "北区",
        "新区",
        "江南",
        "开发",
        "高新",
        "长安",
        "永和",
        "白河",
        "东方",
        "普安",
        "安宁",
        "太平",
        "平安",
        "新华",
        "红旗",
        "前进",
        "胜利",
        "团结",
        "光明",
        "东风",
        "中心",
        "市中",
        "郊区",
        "矿区",
        "古城",
        "花园",
        "城关",
        "大方",
        "合作",
        "正安",
        "通道",
        "江口",
        "石门",
        "龙门",
        "青山",
        "白云",
        "金川",
        "南山",
        "北山",
        "东山",
        "西山",
        "朝阳",
        "向阳",
        "七里",
        "三江",
        "五指",
        "长宁",
        "海南",
        "江北",
        "河北",
        "河南",
        "山东",
        "山西",
        "湖南",
        "湖北",
    ]
)


@dataclass(slots=True)
class Gazetteer:
    names: dict[str, list[Region]] = field(default_factory=lambda: defaultdict(list))
    max_len: int = 0

    def add(self, name: str, place: Region) -> None:
        if len(name) < 2 or place in self.names[name]:
            return
        self.names[name].append(place)
        self.max_len = max(self.max_len, len(name))


def _aliases(node: dict[str, Any]) -> list[str]:
    alias = node.get("_alias") or []
    return [alias] if isinstance(alias, str) else list(alias)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    data: dict[str, Any] = jionlp_module().china_location_loader(detail=True)
    gaz = Gazetteer()
    for prov, pnode in data.items():
        # a municipality is its own city: 重庆 -> 重庆市 / 重庆市
        pl = Region(prov, prov) if prov in MUNICIPALITIES else Region(prov)
        gaz.add(prov, pl)
        for alias in _aliases(pnode):
            gaz.add(alias, pl)
        for city, cnode in pnode.items():
            if city.startswith("_"):
                continue
            cl = Region(prov, city)
            if city != prov:
                gaz.add(city, cl)
                for alias in _aliases(cnode):
                    if alias not in _COMMON:
                        gaz.add(alias, cl)
                        if city.endswith("自治州"):
                            gaz.add(alias + "州", cl)  # 甘孜州, 凉山州: how people say it
            for county, knode in cnode.items():
                if county.startswith("_"):
                    continue
                kl = Region(prov, city, county)
                gaz.add(county, kl)
                for alias in _aliases(knode or {}):
                    # far-away counties by a two-character short name misfire inside
                    # sentences (子长 in 果子长得, 道里 in 楼道里): only home ones count
                    if alias not in _COMMON and (prov in HOME or len(alias) > 2):
                        gaz.add(alias, kl)
                # people here name every county of home by its short name (长宁, 金川, 江北)
                short = _COUNTY_SUFFIX.sub("", county)
                if prov in HOME and len(short) >= 2 and short not in _EVERYDAY:
                    gaz.add(short, kl)
    # "全川都做", "全省的专家": the whole of the platform's home province
    for name in ("全川", "川内", "全省"):
        gaz.add(name, Region("四川省"))
    # names people still use for home counties renamed or cut short (郫县 is 郫都区 since
    # 2016, 灌县 the old 都江堰); only where the old name is not already a place of its own
    for old, new in _FORMER.items():
        for place in gaz.names.get(new, []):
            if place.province in HOME:
                gaz.add(old, place)
    return gaz


_FORMER = {
    "郫县": "郫都区",
    "灌县": "都江堰市",
    "彭县": "彭州市",
    "崇庆": "崇州市",
    "宜宾县": "叙州区",
    "达县": "达川区",
    "安县": "安州区",
    "开县": "开州区",
    "万县": "万州区",
    "巴县": "巴南区",
    "峨眉": "峨眉山市",
    "龙泉": "龙泉驿区",  # said for short, as 龙泉驿 itself
}


@dataclass(frozen=True, slots=True)
class Mention:
    text: str
    start: int
    places: tuple[Region, ...]


# a word this common in jieba's dictionary is read as that word, not as the start of a place:
# 合川 is no place in 适合川南 (适合 is the word)
_COMMON_WORD_FREQ = 100


def _inside_word(text: str, i: int) -> bool:
    """The character before *i* and the one at *i* make a common word (适|合)."""
    import jieba  # imported here: the gazetteer alone does not need the segmenter's dictionary

    if i == 0:
        return False
    jieba.dt.check_initialized()  # the dictionary loads on first use (once per process)
    return (jieba.dt.FREQ.get(text[i - 1 : i + 1]) or 0) >= _COMMON_WORD_FREQ


def find_mentions(text: str) -> list[Mention]:
    """Longest place names in *text*, left to right, not overlapping; a county's
    two-character short name whose first character ends a common word is none (适合川南
    holds no 合川; cities and provinces, said far more often, always count)."""
    gaz = gazetteer()
    out: list[Mention] = []
    i = 0
    while i < len(text):
        for size in range(min(gaz.max_len, len(text) - i), 1, -1):
            word = text[i : i + size]
            places = gaz.names.get(word)
            if places and size == 2 and all(p.county for p in places) and _inside_word(text, i):
                continue
            if places:
                out.append(Mention(word, i, tuple(places)))
                i += size
                break
        else:
            i += 1
    return out


@dataclass(frozen=True, slots=True)
class Resolution:
    places: tuple[Region, ...]  # the places meant, in order of mention (several for experts)
    ambiguous: tuple[Region, ...] = ()  # candidates to ask about when one mention fits several

    @property
    def best(self) -> Region | None:
        return self.places[0] if self.places else None


def _consistent(a: Region, b: Region) -> bool:
    """b lies within a, or a within b."""
    if a.province != b.province:
        return False
    if a.city and b.city and a.city != b.city:
        return False
    return not (a.county and b.county and a.county != b.county)


def _merge(a: Region, b: Region) -> Region:
    return Region(a.province, a.city or b.city, a.county or b.county)


def resolve(text: str) -> Resolution:
    """Regions mentioned in *text*; nested mentions (宜宾 + 翠屏) merge into one place."""
    mentions = find_mentions(text)
    if not mentions:
        return Resolution(())
    groups: list[list[Region]] = []
    ambiguous: tuple[Region, ...] = ()
    for m in mentions:
        cands = list(m.places)
        if groups:
            # a mention inside the previous place narrows it (宜宾 then 翠屏)
            prev = groups[-1]
            inside = [c for c in cands for p in prev if _consistent(p, c)]
            if inside:
                narrowed = [_merge(c, p) for c in cands for p in prev if _consistent(p, c)]
                groups[-1] = list(dict.fromkeys(narrowed))
                continue
        groups.append(cands)
    places: list[Region] = []
    for cands in groups:
        best = _pick(cands)
        if best is None:
            ambiguous = ambiguous or tuple(cands)
            continue
        if best not in places:
            places.append(best)
    return Resolution(tuple(places), ambiguous if not places else ())


def _pick(cands: list[Region]) -> Region | None:
    if len(cands) == 1:
        return cands[0]
    # prefer the most specific reading, then home provinces
    deepest = max(c.level for c in cands)
    cands = [c for c in cands if c.level == deepest]
    home = [c for c in cands if c.province in HOME]
    pool = home or cands
    if len(pool) == 1:
        return pool[0]
    if len({(c.province, c.city) for c in pool}) == 1 and len({c.county for c in pool}) == 1:
        return pool[0]
    return None


def place_by_label(label: str) -> Region | None:
    """The place for a user's pick among clarification options (its full label)."""
    res = resolve(label)
    return res.best


class RegionLookupError(ValueError):
    """A region name that names no place, or several; *options* are what to suggest."""

    def __init__(self, name: str, options: list[str], ambiguous: bool) -> None:
        self.name, self.options, self.ambiguous = name, options, ambiguous
        what = "ambiguous region" if ambiguous else "unknown region"
        hint = f"; did you mean {', '.join(options)}?" if options else ""
        super().__init__(f"{what} {name!r}{hint}")


NATIONWIDE = frozenset({"全国", "中国", "china", "all", "*"})


def lookup(name: str) -> Region:
    """The region a name (宜宾市, 宜宾, 四川, 翠屏区, 全国) stands for.

    Raises:
        RegionLookupError: no such place (with close names to suggest), or several places
            share the name and none is preferred (with their full labels).
    """
    key = "".join(name.split())
    if key.lower() in NATIONWIDE:
        return Region()
    gaz = gazetteer()
    cands = gaz.names.get(key, [])
    if not cands:
        import difflib

        near = difflib.get_close_matches(key, list(gaz.names), n=30, cutoff=0.5)
        near.sort(key=lambda n: not any(p.province in HOME for p in gaz.names[n]))
        near = near[:5]
        raise RegionLookupError(name, near, ambiguous=False)
    # the plain name of a level beats a deeper place that has it as an alias
    shallow = min(c.level for c in cands)
    best = _pick([c for c in cands if c.level == shallow])
    if best is None:
        raise RegionLookupError(name, [c.label for c in cands], ambiguous=True)
    return best
