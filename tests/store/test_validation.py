"""Bad input to the store is refused with a clear error and nothing is half-written."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from store.errors import InvalidInput
from store.experts import ExpertProfileCreate, upsert_expert_profile
from store.needs import Need
from store.order_tables import Order, OrderEvent
from store.users import User, UserCreate, create_user
from store.validation import Region, normalize_phone, validate_region
from tests.factories import make_user, post


def counts(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        session.exec(select(func.count()).select_from(t)).one() for t in (Need, Order, OrderEvent)
    )


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"text": ""}, "text", "must not be empty"),
        ({"text": "  \n\t "}, "text", "must not be empty"),
        ({"text": "\x00\x01\x02"}, "text", "must not be empty"),
        ({"text": "长" * 100_000}, "text", "longer than 5000"),
        ({"contact_phone": "12345"}, "phone", "not a mainland"),
        ({"contact_phone": "2380000123"}, "phone", "not a mainland"),
        ({"contact_phone": ""}, "contact_phone", "requires a contact"),
        ({"county": "火星区"}, "county", "unknown county"),
        ({"province": "", "city": "", "county": ""}, "province", "requires a region"),
        ({"city": "泸州市"}, "county", "unknown county"),
        ({"budget": -5}, "budget", "between"),
    ],
)
def test_bad_need_refused_and_nothing_written(session: Session, changes, field, fragment):
    requester = make_user(session)
    before = counts(session)
    with pytest.raises(InvalidInput) as err:
        post(session, requester, **changes)
    assert err.value.field == field
    assert fragment in str(err.value)
    assert counts(session) == before


def test_valid_need_is_normalised(session: Session):
    posted = post(session, text="  李子树流胶\x07了  ", contact_phone="138-0000-1234")
    assert posted.need.text == "李子树流胶了"
    assert posted.need.contact_phone == "13800001234"
    assert posted.order.status == "posted"
    assert counts(session) == (1, 1, 1)


def test_phone_forms():
    assert normalize_phone("138 0000 1234") == "13800001234"
    assert normalize_phone("+86 13800001234") == "13800001234"
    assert normalize_phone("0831-1234567") == "08311234567"
    for bad in ("1380000123", "23800001234", "abc", "0831-12"):
        with pytest.raises(InvalidInput, match="phone"):
            normalize_phone(bad)


def test_region_checks_nesting_and_suggests():
    assert validate_region("四川省", "宜宾市", "翠屏区") == Region("四川省", "宜宾市", "翠屏区")
    assert validate_region("重庆市", "重庆市", "万州区").label == "重庆市万州区"
    with pytest.raises(InvalidInput, match="did you mean") as err:
        validate_region("四川省", "宜宾", "")
    assert "宜宾市" in str(err.value)
    with pytest.raises(InvalidInput, match="unknown county"):
        validate_region("四川省", "宜宾市", "合江县")  # 合江 is in 泸州
    with pytest.raises(InvalidInput, match="required"):
        validate_region("", "", "翠屏区")


def test_bad_user_refused(session: Session):
    with pytest.raises(InvalidInput, match="external_id"):
        create_user(session=session, user_in=UserCreate(channel="tg", external_id="  "))
    with pytest.raises(InvalidInput, match="phone"):
        create_user(session=session, user_in=UserCreate(channel="tg", external_id="1", phone="1"))
    assert session.exec(select(func.count()).select_from(User)).one() == 0


def test_expert_profile_needs_a_skill_and_real_regions(session: Session):
    user = make_user(session)
    with pytest.raises(InvalidInput, match="at least one field"):
        upsert_expert_profile(session=session, user=user, profile_in=ExpertProfileCreate())
    with pytest.raises(InvalidInput, match="unknown city"):
        upsert_expert_profile(
            session=session,
            user=user,
            profile_in=ExpertProfileCreate(
                fields=["植保"], service_regions=[Region("四川省", "亚特兰蒂斯市", "")]
            ),
        )
    session.refresh(user)
    assert "expert" not in user.roles
