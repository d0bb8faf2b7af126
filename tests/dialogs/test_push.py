"""Subscriptions in conversation, the interest profile, push selection and feedback."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from dialogs.assistant import Assistant
from dialogs.push import Catalogue, PushPlanner, parse_window
from dialogs.types import Incoming
from store.db import make_session_factory
from store.feedback import ArticleFeedback, knowledge_gaps
from store.interests import profile_of
from store.push import PushLog
from store.subscriptions import subscribe, topics_of
from store.users import find_user
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat

JUNE_10AM = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in Chengdu
JAN_10AM = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)


def user_id(chat: Chat) -> int:
    with chat.assistant.session_factory() as s:
        user = find_user(session=s, channel=chat.channel, external_id=chat.user)
        assert user is not None
        return user.id or 0


def topics(chat: Chat) -> list[str]:
    with chat.assistant.session_factory() as s:
        return topics_of(session=s, user_id=user_id(chat))


# ---- subscribing ---------------------------------------------------------------------------
def test_subscribe_by_conversation(chat: Chat):
    out = chat.send("以后有李子和柑橘的病虫害知识推送给我")
    # the kind of problem said after the crops narrows each crop's topic
    assert "已订阅：李病虫害、柑橘病虫害" in out.text
    assert "订阅成功" in chat.press("确认").text
    assert topics(chat) == ["李病虫害", "柑橘病虫害"]
    chat.send("订阅 地震安全")
    chat.send("确认")
    assert topics(chat) == ["李病虫害", "柑橘病虫害", "地震"]


def test_subscribe_command_suggests_topics_from_the_profile(chat: Chat):
    chat.send("稻瘟病怎么防治")
    out = chat.send("/subscribe")
    assert "想订阅哪些方面的科普" in out.text
    labels = chat.buttons()
    assert labels[0] == "水稻" and "病虫害" in labels and labels[-1] == "取消"
    assert "订阅成功：水稻" in chat.press("水稻").text
    chat.send("/subscribe")
    labels = chat.buttons()  # never suggest what they already follow
    assert "水稻" not in labels and labels[0] == "病虫害" and labels[-1] == "取消"
    chat.send("/subscribe 猕猴桃")
    chat.send("确认")
    assert topics(chat) == ["水稻", "猕猴桃"]


def test_unsubscribe_some_then_all_and_stop_works_mid_form(chat: Chat):
    chat.send("订阅 柑橘 地震")
    chat.send("确认")
    assert "已退订：柑橘。仍在订阅：地震" in chat.send("退订 柑橘").text
    assert "没有订阅“辣椒”" in chat.send("退订辣椒").text
    chat.send("我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看")  # a need form is open
    assert "已退订全部" in chat.send("/stop").text
    assert topics(chat) == []
    assert "预算" in chat.send("13800001234").text  # the form carries on where it was


def test_subscriptions_add_up_are_listed_and_dropped_one_or_all(chat: Chat):
    """A second subscription, straight after the first, adds to it; "我订了啥" lists them;
    one goes by name, the rest with "全部退订"."""
    chat.send("我想订阅柑橘病虫害")  # one topic: citrus pests and diseases
    out = chat.send("我还想订阅地震知识")  # no 确认 in between
    assert sorted(topics(chat)) == sorted(["柑橘病虫害", "地震"])
    assert "柑橘病虫害" in out.text and "地震" in out.text
    chat.send("确认")
    out = chat.send("我订了啥")
    assert "您现在订阅了：柑橘病虫害、地震" in out.text and "全部退订" in out.text
    assert "兴趣画像" not in out.text
    out = chat.send("不要柑橘的了")  # the crop's name drops the narrowed topic too
    assert "已退订：柑橘病虫害" in out.text and topics(chat) == ["地震"]
    chat.send("订阅养猪")
    assert sorted(topics(chat)) == sorted(["地震", "猪"])
    assert "已退订全部" in chat.send("全部退订").text
    assert topics(chat) == []
    assert "没有订阅" in chat.send("我订了啥").text


# ---- the profile -----------------------------------------------------------------------------
def test_profile_grows_from_questions_and_needs_and_clears(chat: Chat):
    chat.send("我在宜宾翠屏区，李子树流胶怎么办")
    chat.send("稻瘟病怎么防治")
    chat.send("我在泸州合江，柑橘园土壤酸化，想请专家来看看，电话13800001234")
    chat.send("跳过")
    assert "需求已发布" in chat.send("确认").text
    out = chat.send("/profile")
    assert "关注的作物：李、水稻、柑橘" in out.text
    assert "所在地区：四川省泸州市合江县" in out.text  # the latest place
    assert "· 关注的问题：病害、土壤肥料" in out.text
    assert chat.buttons() == ["清空画像"]
    assert "已清空" in chat.press("清空画像").text
    with chat.assistant.session_factory() as s:
        assert not profile_of(session=s, user_id=user_id(chat))
    assert "关注的作物：暂无" in chat.send("我的画像").text
    chat.send("稻瘟病怎么防治")
    assert "已清空" in chat.send("清空我的画像").text


# ---- feedback ----------------------------------------------------------------------------------
def test_useless_answer_is_recorded_offers_an_expert_and_shows_in_the_gaps(chat: Chat):
    out = chat.send("稻瘟病怎么防治")
    assert out.replies[0].button_labels() == ["有用", "没用"]
    out = chat.press("没用")
    assert out.text == "抱歉没帮上忙，这条反馈已记下。要把您的问题发给专家吗？"
    assert chat.buttons() == ["找专家", "不用了"]
    out = chat.press("找专家")
    # the need form, prefilled with the question and its crop; the place is asked first
    assert "· 作物：水稻" in out.text
    assert out.replies[-1].text.startswith("请问在哪个地方")
    chat.send("宜宾翠屏区 13800001234")
    out = chat.send("跳过")
    assert "请确认需求：\n· 问题：稻瘟病怎么防治\n· 作物：水稻" in out.text
    with chat.assistant.session_factory() as s:
        vote = s.exec(select(ArticleFeedback)).one()
        assert (vote.article_id, vote.useful, vote.source) == ("grain-rice-blast", False, "q")
        gaps = knowledge_gaps(session=s)
    assert ("unhelpful", "稻瘟病怎么防治") in {(g.kind, g.text) for g in gaps}
    assert ("article", "grain-rice-blast") in {(g.kind, g.article_id) for g in gaps}


def test_useful_vote_thanks_and_a_foreign_vote_is_refused(chat: Chat, assistant: Assistant):
    chat.send("发芽的土豆能吃吗")
    action = chat.find("有用").action
    assert chat.press("有用").text == "谢谢反馈！我们会推送更多这样的内容。"
    # someone else cannot vote on this person's answer
    out = assistant.handle(Incoming("test", "老李", action=action))
    assert out.text == "这条内容已经找不到了，反馈没有记录。"
    with assistant.session_factory() as s:
        vote = s.exec(select(ArticleFeedback)).one()
    assert (vote.user_id, vote.article_id, vote.useful) == (
        user_id(chat),
        "sci-sprouted-potato",
        True,
    )


# ---- push selection ------------------------------------------------------------------------------
def entry(id_: str, **meta: Any) -> tuple[str, dict[str, Any], str]:
    meta = {"title": id_, "category": "disease", **meta}
    return (id_, meta, f"{id_} 的第一段。")


@pytest.fixture
def planner(kb_index) -> PushPlanner:
    catalogue = Catalogue.from_index(kb_index)
    return PushPlanner(catalogue=lambda: catalogue)


def subscriber(chat: Chat, *topics_: str) -> int:
    chat.send("你好")  # creates the person
    uid = user_id(chat)
    with chat.assistant.session_factory() as s:
        subscribe(session=s, user_id=uid, topics=list(topics_))
    return uid


def push_rows(chat: Chat) -> list[PushLog]:
    with chat.assistant.session_factory() as s:
        rows = s.exec(select(PushLog).where(PushLog.user_id == user_id(chat))).all()
        return sorted(rows, key=lambda r: r.id or 0)


def pushed(chat: Chat) -> list[str]:
    return [r.article_id for r in push_rows(chat)]


def test_push_fits_topic_and_season(chat: Chat, planner: PushPlanner, kb_index):
    subscriber(chat, "水稻", "病虫害")
    factory = chat.assistant.session_factory
    out = planner.run_due(factory, now=JUNE_10AM)
    [msg] = out.outbound
    assert (msg.kind, msg.external_id) == ("push", chat.user)
    [row] = push_rows(chat)
    assert msg.ref == f"push:{row.id}"
    assert [b.label for row in msg.buttons for b in row] == ["有用", "没用", "退订"]
    # June: the in-season rice diseases and pests tie on 水稻 + 病虫害 + season; the smallest
    # id wins, answering the stronger topic (the crop)
    assert (row.article_id, row.topic) == ("grain-rice-bacterial-blight-streak", "水稻")
    assert msg.text.startswith("【科普推送】水稻细菌性条斑病和白叶枯病的识别与防治\n")
    # January: no rice disease or pest is in season; an in-season disease answers 病虫害
    winter = planner.run_due(factory, now=JAN_10AM + timedelta(days=365))
    [msg] = winter.outbound
    row = push_rows(chat)[-1]
    assert (row.article_id, row.topic) == ("grain-wheat-stripe-rust", "病虫害")
    assert 1 in kb_index.manifest[row.article_id]["metadata"]["months"]
    assert msg.text.startswith("【科普推送】小麦条锈病的识别与防治\n")


def test_push_respects_region_quiet_hours_weekly_cap_and_never_repeats(engine, kb_index):
    catalogue = Catalogue.from_metadata(
        [
            entry("a-sichuan", crops=["柑橘"], regions=["四川省"]),
            entry("b-guangdong", crops=["柑橘"], regions=["广东省"]),
            *(entry(f"c-{i}", crops=["柑橘"]) for i in range(6)),
        ]
    )
    factory = make_session_factory(engine)
    planner = PushPlanner(catalogue=lambda: catalogue, per_week=2)
    assistant = make_assistant(engine, kb_index)
    sichuan, guangdong = Chat(assistant, "川"), Chat(assistant, "粤")
    subscriber(sichuan, "柑橘")
    subscriber(guangdong, "柑橘")
    sichuan.send("我在宜宾翠屏区，柑橘叶子发黄怎么办")
    guangdong.send("我在广州市天河区，柑橘叶子发黄怎么办")

    night = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)  # 22:00 in Chengdu
    assert planner.run_due(factory, now=night).outbound == []
    planner.run_due(factory, now=JUNE_10AM)
    assert pushed(sichuan) == ["a-sichuan"] and pushed(guangdong) == ["b-guangdong"]
    # every 6 hours for two weeks: at most 2 in any 7 days, each article once
    moment = JUNE_10AM
    for _ in range(4 * 14):
        moment += timedelta(hours=6)
        planner.run_due(factory, now=moment)
    got = pushed(sichuan)
    assert len(got) == len(set(got)) == 4
    with factory() as s:
        times = sorted(
            r.created_at
            for r in s.exec(select(PushLog).where(PushLog.user_id == user_id(sichuan)))
        )
    for i in range(len(times) - 2):
        assert times[i + 2] - times[i] >= timedelta(days=7)
    assert "b-guangdong" not in got and "a-sichuan" not in pushed(guangdong)


def test_two_loops_planning_the_same_round_push_once(
    chat: Chat, planner: PushPlanner, monkeypatch: pytest.MonkeyPatch
):
    """Two scheduler loops that read the history before either wrote: one round goes out."""
    from dialogs import push as push_module

    subscriber(chat, "水稻", "病虫害")
    factory = chat.assistant.session_factory
    with factory() as s:
        stale = push_module.histories(session=s, user_ids=[user_id(chat)], since=JUNE_10AM)
    first = planner.run_due(factory, now=JUNE_10AM)
    monkeypatch.setattr(push_module, "histories", lambda **_: stale)  # the other loop's view
    second = planner.run_due(factory, now=JUNE_10AM)
    assert len(first.outbound) == 1 and second.outbound == []
    assert len(pushed(chat)) == 1


def test_nothing_fits_means_no_push(chat: Chat, planner: PushPlanner):
    subscriber(chat, "火星殖民")
    fits = Chat(chat.assistant, "老李")
    subscriber(fits, "水稻")  # the same round does push to someone whose topic fits
    out = planner.run_due(chat.assistant.session_factory, now=JUNE_10AM)
    assert [m.external_id for m in out.outbound] == ["老李"]
    assert pushed(chat) == [] and len(pushed(fits)) == 1


def test_push_window_parsing():
    assert parse_window("08:00-20:00") == (time(8), time(20))
    assert parse_window("20:00-02:00") == (time(20), time(2))  # across midnight
    for bad in ("8-20", "08:00"):
        with pytest.raises(ValueError, match=f"expected a window like '08:00-20:00', got '{bad}'"):
            parse_window(bad)
    with pytest.raises(ValueError, match="the push window '20:00-20:00' is empty"):
        parse_window("20:00-20:00")


def test_push_vote_is_recorded_per_article(chat: Chat, planner: PushPlanner, session: Session):
    subscriber(chat, "地震")
    msg = planner.run_due(chat.assistant.session_factory, now=JUNE_10AM).outbound[0]
    useless = next(b for row in msg.buttons for b in row if b.label == "没用")
    out = chat.assistant.handle(Incoming("test", chat.user, action=useless.action))
    assert out.text == "谢谢反馈，我们会改进这部分内容。"  # a push vote offers no expert
    vote = session.exec(select(ArticleFeedback)).one()
    assert (vote.source, vote.article_id, vote.useful) == ("p", "sci-earthquake-indoor", False)
    assert pushed(chat) == ["sci-earthquake-indoor"]


def test_saved_subscriptions_are_edited_in_words(chat: Chat):
    """After subscribing, "不要X 换成Y" and "再加个Z" change what one follows at once, and a
    cancel undoes only that change."""
    chat.send("订阅 健康 防灾")
    chat.send("确认")
    assert chat.send("不要健康的了 换成地震").text.startswith("已订阅：防灾、地震。")
    assert sorted(topics(chat)) == sorted(["地震", "防灾"])
    chat.send("确认")
    assert chat.send("再加个养猪的").text.startswith("已订阅：防灾、地震、猪。")
    assert sorted(topics(chat)) == sorted(["地震", "防灾", "猪"])
    assert "撤销" in chat.send("算了").text
    assert sorted(topics(chat)) == sorted(["地震", "防灾"])
