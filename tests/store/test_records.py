"""Users, expert profiles, conversation state and the question log."""

from __future__ import annotations

from sqlmodel import Session

from store.conversations import load_state, save_state
from store.experts import ExpertProfileCreate, get_expert_profile, upsert_expert_profile
from store.questions import log_question
from store.users import Role, find_user, get_or_create_user, update_user
from store.validation import Region


def test_user_created_once_per_channel_identity(session: Session):
    a = get_or_create_user(
        session=session, channel="telegram", external_id="42", display_name="张三"
    )
    b = get_or_create_user(session=session, channel="telegram", external_id="42")
    c = get_or_create_user(session=session, channel="console", external_id="42")
    assert a.id == b.id != c.id
    update_user(session=session, user=a, phone="139 0000 5678", province="重庆市", city="重庆市")
    again = find_user(session=session, channel="telegram", external_id="42")
    assert (again.phone, again.province, again.city) == ("13900005678", "重庆市", "重庆市")


def test_expert_profile_upsert_sets_role_and_regions(session: Session):
    user = get_or_create_user(session=session, channel="console", external_id="expert1")
    profile = upsert_expert_profile(
        session=session,
        user=user,
        profile_in=ExpertProfileCreate(
            fields=["果树栽培", "果树栽培", "植物保护"],
            skills=["病虫害防治"],
            crops=["李", "柑橘"],
            organisation="示例县农技站",
            title="农艺师",
            service_regions=[Region("四川省", "泸州市", "合江县"), Region("四川省", "", "")],
        ),
    )
    assert profile.fields == ["果树栽培", "植物保护"]
    assert profile.regions[0] == Region("四川省", "泸州市", "合江县")
    assert user.has_role(Role.EXPERT)
    upsert_expert_profile(
        session=session, user=user, profile_in=ExpertProfileCreate(skills=["土壤改良"])
    )
    assert get_expert_profile(session=session, user_id=user.id).skills == ["土壤改良"]
    assert profile.rating_avg is None


def test_conversation_state_round_trip(session: Session):
    assert load_state(session=session, channel="console", external_id="u") == {}
    save_state(
        session=session,
        channel="console",
        external_id="u",
        data={"form": "need", "slots": {"crop": "李"}},
    )
    save_state(
        session=session,
        channel="console",
        external_id="u",
        data={"form": "need", "slots": {"crop": "桃"}},
    )
    assert load_state(session=session, channel="console", external_id="u")["slots"] == {
        "crop": "桃"
    }


def test_question_log(session: Session):
    row = log_question(
        session=session,
        question=" 稻瘟病怎么防治？ ",
        answered=True,
        top_hit="grain-rice-blast",
        score=0.8,
    )
    assert row.id and row.question == "稻瘟病怎么防治？" and row.answered
