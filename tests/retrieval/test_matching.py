"""Expert ranking: field relevance, crop and category agreement, region, availability, load."""

from __future__ import annotations

import uuid

import pytest

from retrieval.factory import open_index
from retrieval.matching import ExpertCard, ExpertMatcher, NeedQuery, Scope
from store.region import Region
from tests.conftest import ephemeral_client

YIBIN_CUIPING = Region("四川省", "宜宾市", "翠屏区")


def card(uid: int, fields: tuple[str, ...], region: Region, **kw) -> ExpertCard:
    return ExpertCard(
        user_id=uid, name=f"e{uid}", fields=fields, regions=(region,), home=region, **kw
    )


@pytest.fixture
def matcher(tmp_path) -> ExpertMatcher:
    m = ExpertMatcher(
        open_index(f"m{uuid.uuid4().hex[:6]}", data_dir=tmp_path, client=ephemeral_client())
    )
    m.sync(
        [
            card(1, ("果树栽培", "土壤改良"), YIBIN_CUIPING, crops=("李",), categories=("soil",)),
            card(2, ("土壤肥料",), Region("四川省", "宜宾市"), categories=("soil",)),
            card(3, ("土壤改良",), Region("四川省"), categories=("soil",)),
            card(4, ("土壤改良",), Region("四川省", "泸州市", "合江县"), categories=("soil",)),
            card(5, ("畜牧兽医",), YIBIN_CUIPING, crops=("猪",), categories=("livestock",)),
            card(6, ("土壤改良",), YIBIN_CUIPING, categories=("soil",), available=False),
            card(
                7,
                ("土壤改良", "果树栽培"),
                YIBIN_CUIPING,
                crops=("李",),
                categories=("soil",),
                open_orders=6,
            ),
            card(8, ("土壤改良",), Region("重庆市", "重庆市", "万州区"), categories=("soil",)),
        ]
    )
    return m


NEED = NeedQuery("李子园土壤酸化板结，产量低", crop="李", category="soil", area=YIBIN_CUIPING)


def test_same_county_and_field_first_with_a_reason(matcher: ExpertMatcher):
    top = matcher.rank(NEED, k=5)
    assert top[0].user_id == 1
    assert top[0].reason == "擅长果树栽培、土壤改良，服务四川省宜宾市翠屏区"
    ids = [m.user_id for m in top]
    assert 5 not in ids  # wrong field
    assert 6 not in ids  # unavailable
    assert 4 not in ids and 3 not in ids  # other city / only province-wide in the first round
    assert ids.index(7) > ids.index(1)  # same profile but busy: ranked lower
    assert ids.index(2) > ids.index(1)  # city-wide after county


def test_scopes_widen(matcher: ExpertMatcher):
    province = {m.user_id for m in matcher.rank(NEED, k=10, scope=Scope.PROVINCE)}
    assert {3, 4} <= province and 8 not in province
    anywhere = {m.user_id for m in matcher.rank(NEED, k=10, scope=Scope.ANYWHERE)}
    assert 8 in anywhere


def test_exclude_and_upsert(matcher: ExpertMatcher):
    assert 1 not in {m.user_id for m in matcher.rank(NEED, k=5, exclude=[1])}
    matcher.upsert(card(1, ("畜牧兽医",), YIBIN_CUIPING, categories=("livestock",)))
    assert 1 not in {m.user_id for m in matcher.rank(NEED, k=5)}


def test_rating_breaks_ties(tmp_path):
    m = ExpertMatcher(open_index("tie", data_dir=tmp_path, client=ephemeral_client()))
    m.sync(
        [
            card(1, ("土壤改良",), YIBIN_CUIPING, categories=("soil",), rating_avg=3.0),
            card(2, ("土壤改良",), YIBIN_CUIPING, categories=("soil",), rating_avg=5.0),
        ]
    )
    assert [x.user_id for x in m.rank(NEED, k=2)] == [2, 1]
