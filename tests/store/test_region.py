"""One Region type for records, matching, message understanding and the dashboard."""

from __future__ import annotations

from dialogs.form_specs import place_dict
from dialogs.nlu.regions import lookup, resolve
from store.needs import Need
from store.region import Region
from store.validation import Region as ValidationRegion

CUIPING = Region("四川省", "宜宾市", "翠屏区")


def test_old_import_path_is_the_same_type():
    assert ValidationRegion is Region


def test_label_level_and_truth():
    assert CUIPING.label == "四川省宜宾市翠屏区"
    assert Region("重庆市", "重庆市", "万州区").label == "重庆市万州区"
    assert [
        r.level for r in (Region(), Region("四川省"), Region("四川省", "宜宾市"), CUIPING)
    ] == [
        0,
        1,
        2,
        3,
    ]
    assert not Region() and Region("四川省")


def test_covers_is_containment():
    assert Region("四川省").covers(CUIPING)
    assert Region("四川省", "宜宾市").covers(CUIPING)
    assert CUIPING.covers(CUIPING)
    assert not CUIPING.covers(Region("四川省", "宜宾市"))
    assert not Region("四川省", "泸州市").covers(CUIPING)
    assert not Region().covers(CUIPING)  # nationwide service is not a declared region


def test_dict_round_trip_tolerates_missing_keys():
    assert Region.from_dict(CUIPING.as_dict()) == CUIPING
    assert Region.from_dict({"province": "四川省"}) == Region("四川省")
    assert Region.from_dict({"province": "四川省", "city": None, "extra": 1}) == Region("四川省")
    assert Region.from_dict(None) == Region()
    assert place_dict(CUIPING) == CUIPING.as_dict()


def test_within_builds_where_terms():
    assert len(CUIPING.within(Need)) == 3
    assert Region().within(Need) == []


def test_place_names_resolve_to_regions():
    assert resolve("宜宾翠屏区的李子").best == CUIPING
    assert lookup("万州") == Region("重庆市", "重庆市", "万州区")
    assert lookup("全国") == Region()
