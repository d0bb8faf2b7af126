"""Small builders for test records (fictional people and numbers)."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from store.experts import ExpertProfileCreate, upsert_expert_profile
from store.needs import NeedCreate
from store.orders import Posted, post_need
from store.users import Role, User, UserCreate, create_user
from store.validation import Region

_seq = itertools.count(1)


def make_user(session: Session, name: str = "", roles: tuple[Role, ...] = ()) -> User:
    n = next(_seq)
    return create_user(
        session=session,
        user_in=UserCreate(
            channel="test",
            external_id=f"u{n}",
            display_name=name or f"测试用户{n}",
            roles=list(roles),
            province="四川省",
            city="宜宾市",
            county="翠屏区",
        ),
    )


def make_expert(session: Session, name: str = "") -> User:
    user = make_user(session, name or "测试专家")
    upsert_expert_profile(
        session=session,
        user=user,
        profile_in=ExpertProfileCreate(
            fields=["果树栽培"],
            skills=["土壤改良"],
            organisation="示例农技站",
            service_regions=[Region("四川省", "宜宾市", "")],
        ),
    )
    session.refresh(user)
    return user


def need_in(**changes: object) -> NeedCreate:
    data: dict[str, object] = {
        "text": "李子园土壤酸化板结，果子产量低，想请专家来看看",
        "crop": "李",
        "category": "soil",
        "province": "四川省",
        "city": "宜宾市",
        "county": "翠屏区",
        "contact_phone": "13800001234",
        "budget": 5000,
    }
    data.update(changes)
    return NeedCreate(**data)  # type: ignore[arg-type]


def post(session: Session, requester: User | None = None, **changes: object) -> Posted:
    requester = requester or make_user(session, "测试农户")
    return post_need(session=session, requester=requester, need_in=need_in(**changes))
