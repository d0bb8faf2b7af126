"""/link in the store: one-time codes join two channel identities into one person
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from store.clock import utcnow
from store.links import MAX_FAILURES, LinkCode, LinkResult, issue_code, redeem_code
from store.needs import Need
from store.privacy import forget_person
from store.subscriptions import subscribe, topics_of
from store.users import User, find_user, get_or_create_user, identities
from tests.factories import make_expert, post


def _person(session: Session, channel: str, ext: str) -> User:
    return get_or_create_user(session=session, channel=channel, external_id=ext)


def test_a_code_joins_two_channels_into_one_person(session: Session) -> None:
    tg = _person(session, "telegram", "555")
    post(session, requester=tg)
    subscribe(session=session, user_id=tg.id or 0, topics=["李", "柑橘"])
    web = _person(session, "web", "sid-abc")
    post(session, requester=web, crop="柑橘")
    subscribe(session=session, user_id=web.id or 0, topics=["柑橘", "地震安全"])

    code = issue_code(session=session, user=tg, channel="telegram", external_id="555")
    assert len(code.code) == 6 and code.code.isdigit()
    done = redeem_code(session=session, user=web, code=code.code)

    assert done.result is LinkResult.LINKED and done.user_id == tg.id
    assert done.issuer == ("telegram", "555")
    one = find_user(session=session, channel="telegram", external_id="555")
    assert one is not None and one.id == tg.id
    assert find_user(session=session, channel="web", external_id="sid-abc") == one
    # the needs of both, one person's subscriptions without duplicates
    needs = session.exec(select(Need).where(Need.requester_id == tg.id)).all()
    assert sorted(n.crop for n in needs) == ["李", "柑橘"]
    assert sorted(topics_of(session=session, user_id=tg.id or 0)) == ["地震安全", "李", "柑橘"]
    assert session.get(User, web.id) is None
    # messages go where the person last wrote: the web chat that typed the code
    assert identities(session=session, user_id=tg.id or 0) == [
        ("web", "sid-abc"),
        ("telegram", "555"),
    ]
    # writing on Telegram again makes it the home address; still one person
    again = get_or_create_user(session=session, channel="telegram", external_id="555")
    assert again.id == tg.id and (again.channel, again.external_id) == ("telegram", "555")
    assert identities(session=session, user_id=tg.id or 0)[1] == ("web", "sid-abc")
    # the code was used once
    third = _person(session, "wechat", "o-1")
    assert redeem_code(session=session, user=third, code=code.code).result is LinkResult.UNKNOWN


def test_wrong_and_expired_codes_are_refused_and_guessing_is_bounded(session: Session) -> None:
    tg = _person(session, "telegram", "777")
    web = _person(session, "web", "sid-x")
    code = issue_code(session=session, user=tg, channel="telegram", external_id="777")
    wrong = f"{(int(code.code) + 1) % 10**6:06d}"
    assert redeem_code(session=session, user=web, code=wrong).result is LinkResult.UNKNOWN
    code.expires_at = utcnow() - timedelta(seconds=1)
    session.add(code)
    session.commit()
    assert redeem_code(session=session, user=web, code=code.code).result is LinkResult.UNKNOWN
    assert find_user(session=session, channel="web", external_id="sid-x").id == web.id  # type: ignore[union-attr]
    for _ in range(MAX_FAILURES - 2):
        redeem_code(session=session, user=web, code=wrong)
    fresh = issue_code(session=session, user=tg, channel="telegram", external_id="777")
    # even the right code is refused after too many wrong ones
    assert redeem_code(session=session, user=web, code=fresh.code).result is LinkResult.TOO_MANY
    # a new code makes the earlier one stop working
    newer = issue_code(session=session, user=tg, channel="telegram", external_id="777")
    assert session.get(LinkCode, fresh.id).used_at is not None  # type: ignore[union-attr]
    assert newer.code


def test_same_person_and_two_experts(session: Session) -> None:
    a = make_expert(session, "专家甲")
    b = make_expert(session, "专家乙")
    code = issue_code(session=session, user=a, channel=a.channel, external_id=a.external_id)
    assert redeem_code(session=session, user=a, code=code.code).result is LinkResult.SAME
    assert redeem_code(session=session, user=b, code=code.code).result is LinkResult.TWO_EXPERTS
    assert session.get(User, b.id) is not None


def test_an_expert_profile_moves_to_the_kept_user(session: Session) -> None:
    plain = _person(session, "web", "sid-1")
    expert = make_expert(session, "专家丙")  # younger: its profile must move, not vanish
    code = issue_code(session=session, user=plain, channel="web", external_id="sid-1")
    done = redeem_code(session=session, user=expert, code=code.code)
    assert done.result is LinkResult.LINKED and done.user_id == plain.id
    from store.experts import ExpertProfile

    profile = session.exec(select(ExpertProfile).where(ExpertProfile.user_id == plain.id)).one()
    assert profile.organisation == "示例农技站"
    kept = session.get(User, plain.id)
    assert kept is not None and "expert" in kept.roles and kept.display_name == "专家丙"


def test_deleting_a_linked_person_forgets_every_identity(session: Session) -> None:
    tg = _person(session, "telegram", "999")
    web = _person(session, "web", "sid-9")
    code = issue_code(session=session, user=tg, channel="telegram", external_id="999")
    redeem_code(session=session, user=web, code=code.code)
    forget_person(session=session, user_id=tg.id or 0)
    assert find_user(session=session, channel="web", external_id="sid-9") is None
    assert find_user(session=session, channel="telegram", external_id="999") is None
