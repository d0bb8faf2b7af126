"""The reshaped core (issue 13): typed actions and state, the pure form engine, and the defects
fixed on the way, each as a conversation a user would notice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from dialogs import forms
from dialogs.actions import Act, Action, parse_action
from dialogs.form_specs import SKIPPED
from dialogs.form_steps import Ask, Commit, Confirm
from dialogs.i18n import ZH
from dialogs.nlu.intents import understand
from dialogs.state import ConversationState, FormState, Memory, Options
from store.clock import utcnow
from store.needs import Need
from store.order_tables import Order
from store.questions import QuestionLog
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat
from tests.dialogs.test_orders import EXPERTS, post_need

SEVEN_DIGITS = re.compile(r"\d{7,}")


def digits_only(text: str) -> str:
    """The digits an eye reads in *text*, separators between them dropped."""
    import unicodedata

    return re.sub(r"(?<=\d)[\s\-+.()（）]+(?=\d)", "", unicodedata.normalize("NFKC", text))


# ---- typed actions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "wire",
    ["accept:12", "rate:12:5", "useful:q:7", "useless:p:3", "role:need", "pick:2", "topic:0"]
    + ["confirm", "cancel", "find_expert", "clear_profile", "cancel_order:4", "decline:9"]
    + ["delete_me", "keep_me"],
)
def test_an_action_survives_the_wire(wire: str) -> None:
    action = parse_action(wire)
    assert action is not None and str(action) == wire


@pytest.mark.parametrize(
    "wire",
    ["", "accept", "accept:x", "accept:1:2", "rate:3", "useful:z:1", "role:king", "pick:-1"]
    + ["accept:" + "9" * 40, "nonsense:1", "confirm:now", "delete_me:7", "keep_me:x"],
)
def test_a_forged_or_broken_action_is_nothing(wire: str) -> None:
    assert parse_action(wire) is None


# ---- typed state ------------------------------------------------------------------------------
def test_a_stored_state_of_the_old_shape_still_loads() -> None:
    old = {
        "form": "need",
        "slots": {"problem": "李子流胶", "phone": "13800001234"},
        "awaiting": "region",
        "confirming": False,
        "options": ["江苏省南京市鼓楼区", "福建省福州市鼓楼区"],
        "options_for": "region",
        "offer": {"text": "李子流胶怎么办"},
        "suggested": ["李", "病虫害"],
        "memory": {"turns": [{"question": "q", "answer": "a"}], "subject": "李", "at": "x"},
    }
    state = ConversationState.from_json(old)
    assert state.form == FormState("need", old["slots"], "region", False)
    assert state.options == Options(old["options"], "region")
    assert state.offer == "李子流胶怎么办"
    assert state.suggested == ["李", "病虫害"]
    assert state.memory == Memory([{"question": "q", "answer": "a", "title": ""}], "李", "x")
    # and it is written back in the versioned shape, which reads back the same
    assert ConversationState.from_json(state.to_json()) == state
    assert state.to_json()["v"] == 2


def test_unreadable_state_starts_afresh() -> None:
    assert ConversationState.from_json({"v": 2, "form": {"name": "need", "slots": 7}}).form is None


def test_leaving_a_form_keeps_what_was_asked_a_minute_ago() -> None:
    state = ConversationState(
        form=FormState("need"), offer="x", memory=Memory([{"question": "q", "answer": "a"}])
    )
    state.clear_form()
    assert state.form is None and state.offer is None
    assert state.memory is not None and state.memory.turns[0]["question"] == "q"


# ---- the form engine is pure -----------------------------------------------------------------
def test_the_engine_asks_for_what_is_missing_then_confirms_then_commits() -> None:
    text = "我在宜宾翠屏区，李子园土壤酸化板结"
    step = forms.begin("need", {}, understand(text), text)
    assert isinstance(step, Ask) and step.slot == "phone"
    step = forms.step(step.state, understand("13800001234"), "13800001234")
    assert isinstance(step, Ask) and step.slot == "budget"
    step = forms.step(step.state, understand("跳过"), "跳过")
    assert isinstance(step, Confirm)
    assert step.state.slots["budget"] == SKIPPED
    assert isinstance(forms.step(step.state, understand("确认"), "确认"), Commit)


@pytest.mark.parametrize("word", ["确认", "/needs", "修改", "接单 12"])
def test_a_control_word_is_never_a_name(word: str) -> None:
    state = FormState("expert", {"fields": ["果树栽培"]}, awaiting="name")
    step = forms.step(state, understand(word), word)
    assert "name" not in step.state.slots


def test_a_control_word_is_never_stored_in_conversation(chat: Chat, assistant) -> None:
    chat.send("我是农技站的，搞果树病虫害防治，宜宾翠屏区都能跑")
    out = chat.send("确认")  # the name question is open
    assert "还没到确认这一步" in out.text and "怎么称呼您" in out.text
    out = chat.send("接单 12")  # a command: done at once, then the same question
    assert out.replies[0].text.startswith("您还没有登记为专家")
    assert out.replies[-1].text == "请问怎么称呼您？"


# ---- privacy: nothing an expert sees before accepting carries 7 digits of a phone -------------
PHONE_FORMS = [
    "电话138-0000-1234",
    "138 0000 1234",
    "+86 138 0000 1234",
    "１３８００００１２３４",
    "一三八零零零零一二三四",
]


@pytest.fixture
def world(engine, kb_index, tmp_path):
    assistant = make_assistant(engine, kb_index, tmp_path, match_timeout=timedelta(hours=2))
    chats = {}
    for name, intro in EXPERTS:
        chats[name] = Chat(assistant, name)
        register(chats[name], intro)
    chats["老王"] = Chat(assistant, "老王")
    return assistant, chats


@pytest.mark.parametrize("phone", PHONE_FORMS)
def test_no_phone_reaches_an_expert_before_accepting(world, phone: str) -> None:
    assistant, chats = world
    farmer = chats["老王"]
    # long enough that the summary is shortened: masking must come first
    farmer.send(
        f"我在宜宾翠屏区，李子园土壤酸化板结，果子产量低，叶子发黄，想请专家来看看，联系{phone}"
    )
    if "联系电话" in farmer.text:
        farmer.send("13800001234")
    farmer.send("跳过")
    out = farmer.press("确认")
    assert "需求已发布" in out.text
    seen = [m.text for m in out.outbound]
    seen.append(chats["张老师"].send("找项目").text)
    seen.append(chats["张老师"].send("/needs").text)
    assert len(out.outbound) == 5
    for text in seen:
        assert not SEVEN_DIGITS.search(digits_only(text)), text
        assert "一三八零" not in text


def test_the_question_log_keeps_no_phone(chat: Chat, assistant) -> None:
    chat.send("稻瘟病怎么防治 我电话138 0000 1234")
    with assistant.session_factory() as s:
        logged = s.exec(select(QuestionLog.question)).one()
    assert not SEVEN_DIGITS.search(digits_only(logged))


# ---- orders ----------------------------------------------------------------------------------
def resolved_order(world) -> int:
    assistant, chats = world
    order_id, _ = post_need(chats)
    chats["张老师"].send(f"接单 {order_id}")
    chats["张老师"].send(f"已解决 {order_id} 已指导撒石灰")
    return order_id


@pytest.mark.parametrize("comment", ["很好", ""])
def test_rating_by_number_then_score(world, comment: str) -> None:
    assistant, chats = world
    order_id = resolved_order(world)
    out = chats["老王"].send(f"评价 {order_id} 5 {comment}".strip())
    assert out.text == f"感谢评价！需求 #{order_id} 已完成。"
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == "closed"


def test_a_stranger_learns_nothing_about_an_order(world) -> None:
    assistant, chats = world
    order_id = resolved_order(world)
    stranger = chats["李专家"]
    for text in (f"取消订单 {order_id}", f"已解决 {order_id}"):
        out = stranger.send(text).text
        assert out == f"需求 #{order_id} 不是您承接或发布的，不能这样操作。", text
        assert "已解决" not in out.replace("已解决 ", "") and "状态" not in out


@pytest.mark.parametrize("number", ["99999999999", "9" * 30, "2147483648"])
def test_an_order_number_no_order_can_have(world, number: str) -> None:
    _, chats = world
    for text in (f"取消订单 {number}", f"接单 {number}", f"/order {number}", f"评价 {number} 5"):
        assert chats["张老师"].send(text).text == f"没有找到编号 {number} 的需求。", text


def register(chat: Chat, intro: str) -> None:
    chat.send(intro)
    if "请确认登记信息" not in chat.text:
        chat.send("跳过")  # the optional title
    assert "登记成功" in chat.press("确认").text


def test_a_need_nobody_fitted_is_matched_when_an_expert_registers(engine, kb_index, tmp_path):
    assistant = make_assistant(engine, kb_index, tmp_path, match_timeout=timedelta(hours=2))
    farmer = Chat(assistant, "老王")
    order_id, _ = post_need({"老王": farmer})
    assert "暂时没有找到合适的专家" in farmer.text
    # an expert registers later (any process); the next scheduler round finds them
    register(Chat(assistant, "张老师"), EXPERTS[0][1])
    out = assistant.matching.run_due(assistant.session_factory)
    kinds = {(m.external_id, m.kind) for m in out.outbound}
    assert kinds == {("老王", "rematched"), ("张老师", "new_need")}
    told = next(m.text for m in out.outbound if m.external_id == "老王")
    assert f"需求 #{order_id} 找到了合适的专家" in told
    assert assistant.matching.run_due(assistant.session_factory).outbound == []


def test_a_need_nobody_fits_expires_and_its_requester_hears(engine, kb_index, tmp_path):
    assistant = make_assistant(engine, kb_index, tmp_path, match_timeout=timedelta(hours=2))
    farmer = Chat(assistant, "老王")
    order_id, _ = post_need({"老王": farmer})
    later = utcnow() + timedelta(hours=7)
    out = assistant.matching.run_due(assistant.session_factory, now=later)
    assert [(m.external_id, m.kind) for m in out.outbound] == [("老王", "expired")]
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == "expired"


def test_an_expert_registered_by_another_process_is_matched(engine, kb_index, tmp_path):
    """Two assistants over one database stand for the console beside the bot."""
    bot = make_assistant(engine, kb_index, tmp_path / "bot")
    console = make_assistant(engine, kb_index, tmp_path / "console")
    farmer = Chat(bot, "老王")
    farmer.send("你好")  # the bot has looked at the experts already: none
    bot.matching.refresh(bot.session_factory())
    register(Chat(console, "张老师"), EXPERTS[0][1])
    order_id, outbound = post_need({"老王": farmer})
    assert [m.external_id for m in outbound] == ["张老师"]
    assert order_id


# ---- follow-ups ------------------------------------------------------------------------------
def test_an_unrelated_short_question_is_not_glued_to_the_last_one(chat: Chat) -> None:
    first = chat.send("柑橘溃疡病怎么防治")
    assert "来源" in first.text
    out = chat.send("地震来了怎么办")
    assert "来源：《" in out.text and "地震" in out.text.split("来源：")[1]


def test_a_real_follow_up_still_leans_on_the_last_question(chat: Chat) -> None:
    chat.send("稻瘟病是什么症状")
    out = chat.send("那用什么药")
    assert "稻瘟病" in out.text.split("来源：")[1]


def test_an_unrelated_question_does_not_lean_on_the_last_one(chat: Chat) -> None:
    chat.send("柑橘冬季清园用什么药")
    out = chat.send("驾照到期了咋个换")
    assert "来源：" not in out.text and "专家" in out.text


def test_buttons_carry_typed_actions(chat: Chat) -> None:
    chat.send("/start")
    actions = [b.action for r in chat.last.replies for row in r.buttons for b in row]
    assert actions == [
        Action(Act.ROLE, arg="need"),
        Action(Act.ROLE, arg="expert"),
        Action(Act.ROLE, arg="citizen"),
    ]


# ---- found by talking to it ---------------------------------------------------------------
@pytest.mark.parametrize("answer", ["没有预算", "不晓得好多钱", "暂时没得"])
def test_no_budget_skips_the_budget_question(chat: Chat, answer: str) -> None:
    chat.send("我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看，电话13800001234")
    out = chat.send(answer)
    assert out.text.startswith("好的，跳过。\n请确认需求：") or (
        out.replies[0].text == "好的，跳过。" and out.replies[1].text.startswith("请确认需求：")
    )


def test_the_unit_answer_does_not_move_the_service_area(chat: Chat) -> None:
    chat.send(
        "我是茶学老师，可以提供茶园管理指导，雅安名山一带都能去，电话13900007777，我叫李国强"
    )
    out = chat.send("四川农业大学")  # the unit question (or the title question) is open
    for _ in range(3):  # the optional unit and title, if asked
        if "请确认登记信息" in out.text:
            break
        out = chat.send("跳过")
    assert "· 服务地区：四川省雅安市名山区" in out.text


def test_giving_up_after_posting_offers_to_withdraw_the_need(chat: Chat, assistant) -> None:
    order_id, _ = post_need({"老王": chat})
    out = chat.send("算了不要了")
    assert out.text.startswith(f"您的需求 #{order_id}《我在宜宾翠屏区，李子园土壤酸化板结")
    assert out.text.endswith("》还在等专家接单。要撤销这条需求吗？")
    assert chat.buttons() == ["撤销需求", "保留"]
    assert "已撤销" in chat.press("撤销需求").text or "取消" in chat.last.text
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == "cancelled"


@pytest.mark.parametrize(("typed", "withdrawn"), [("是", True), ("保留", False)])
def test_the_withdraw_question_answered_by_typing(chat: Chat, assistant, typed, withdrawn) -> None:
    order_id, _ = post_need({"老王": chat})
    with assistant.session_factory() as s:
        before = s.get(Order, order_id).status
    chat.send("不要专家了 鸡都死完了")
    chat.send(typed)
    status = "cancelled" if withdrawn else before
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == status
    # the question was answered: a later "是" is no withdrawal
    chat.send("是")
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == status


def test_a_browsed_need_names_its_place_once(world) -> None:
    _, chats = world
    post_need(chats)
    line = next(x for x in chats["张老师"].send("找项目").text.splitlines() if x.startswith("#1"))
    assert line == "#1 翠屏区 · 李 · 李子园土壤酸化板结，果子产量低，想请专家来看看"


def test_a_place_right_after_the_expert_offer_starts_that_need(chat: Chat) -> None:
    chat.send("草鱼鳃盖发红是啥子病")
    assert "要我帮您找专家吗" in chat.text
    out = chat.send("隆昌")
    # the place is said back and not asked for: one question, the phone
    assert "· 地点：四川省内江市隆昌市" in out.text
    assert "请问在哪个地方" not in out.text and "请留一个联系电话" in out.text
    out = chat.send("13800044556")
    out = chat.send("3000")
    assert "· 问题：草鱼鳃盖发红是啥子病" in out.text
    assert "· 地点：四川省内江市隆昌市" in out.text and "· 预算：3000 元" in out.text


def test_a_new_need_after_an_offer_is_its_own_need(chat: Chat) -> None:
    chat.send("稻瘟病怎么防治")
    out = chat.send("我在泸州合江，柑橘园土壤酸化，想请专家来看看，电话13800001234")
    assert "· 作物：柑橘" in out.text and "水稻" not in out.text


def test_subscription_topics_are_edited_in_words(chat: Chat) -> None:
    assert chat.send("订阅养猪的消息").text.startswith("已订阅：猪。")
    assert chat.send("再加个养鸡的").text.startswith("已订阅：猪、鸡。")
    assert chat.send("养鸡的不要了 只要猪").text.startswith("已订阅：猪。")
    assert chat.topics() == ["猪"]  # saved as it goes: no confirmation needed
    assert chat.send("对 猪").text.startswith("订阅成功：猪")


def test_expert_answers_are_taken_whole_and_a_name_is_no_place(chat: Chat) -> None:
    out = chat.send("我叫陈志刚 电话13800010101 想注册专家 会看鱼病 也懂水产养殖 服务江津 永川")
    assert "· 称呼：陈志刚" in out.text
    assert chat.send("单位没有").replies[0].text == "好的，跳过。"
    out = chat.send("职称是水产工程师")
    assert "· 职称：水产工程师" in out.text and "· 单位" not in out.text


@pytest.mark.parametrize(
    ("text", "name", "crops"),
    [
        ("我是农技站的李建国 做柑橘病虫害防治二十年了 电话13800001111", "李建国", ["柑橘"]),
        ("我是四川农业大学的王芳", "王芳", []),
        ("我是宜宾的李子种植户", "", ["李"]),  # a place and a crop, no name
    ],
)
def test_a_name_after_the_unit_is_the_name_not_a_crop(text: str, name: str, crops) -> None:
    slots = understand(text).slots
    assert (slots.name, slots.crops) == (name, crops)


def test_a_name_with_a_place_inside_is_still_only_a_name() -> None:
    parse = understand("好 继续 我叫赵永福 电话15000013131")
    assert parse.slots.name == "赵永福" and parse.slots.places == []


def test_an_experts_crops_are_kept_and_shown(chat: Chat, assistant) -> None:
    from store.experts import ExpertProfile

    out = chat.send(
        "我是农技站的 做李子和柑橘的土壤改良 宜宾翠屏一带都能跑 电话13900001111 我叫张建国"
    )
    assert "· 擅长领域：土壤改良" in out.text and "· 作物：李、柑橘" in out.text
    for _ in range(3):  # the optional unit and title, if asked
        if "请确认登记信息" in chat.text:
            break
        chat.send("跳过")
    chat.send("确认")
    with assistant.session_factory() as s:
        assert s.exec(select(ExpertProfile.crops)).one() == ["李", "柑橘"]


def test_experts_see_the_corrected_place_not_the_first_one(world) -> None:
    _, chats = world
    farmer = chats["老王"]
    farmer.send("想找专家看看李子树 叶子上起红斑 泸州那边的")
    farmer.send("不对 是宜宾翠屏区")
    farmer.send("13800001234")
    farmer.send("跳过")
    out = farmer.press("确认")
    assert out.outbound, out.text
    for msg in out.outbound:
        assert "泸州" not in msg.text and "翠屏区 · 李 · " in msg.text


def test_asking_for_an_expert_after_more_questions_carries_the_described_problem(
    chat: Chat, assistant
) -> None:
    """Console finding: the need read "辣椒施肥用啥子药（算了 我想找个专家来看看）", the last
    question and the request, instead of the symptoms the farmer described."""
    chat.send("海椒叶子卷起来了 还有好多小白虫")
    chat.send("辣椒施肥用啥子药")
    chat.send("算了 我想找个专家来看看")
    for answer in ("宜宾翠屏区", "13800077777", "没得"):
        out = chat.send(answer)
    assert "· 问题：海椒叶子卷起来了 还有好多小白虫\n· 作物：辣椒" in out.text
    assert "需求已发布" in chat.send("好了 发吧").text
    with assistant.session_factory() as s:
        [need] = s.exec(select(Need)).all()
    assert need.text == "海椒叶子卷起来了 还有好多小白虫" and need.crop == "辣椒"


def test_a_role_word_is_no_name(chat: Chat) -> None:
    chat.send("我是农技站的，搞果树病虫害防治，宜宾翠屏区都能跑")
    assert chat.send("专家").replies[-1].text == "请问怎么称呼您？"


def test_asking_for_an_expert_after_a_question_carries_the_question(chat: Chat) -> None:
    chat.send("柑橘叶子斑驳发黄 果子红鼻子 是不是黄龙病")
    chat.send("我想请专家来看一下")
    chat.send("忠县")
    chat.send("13800015151")
    out = chat.send("跳过")
    for _ in range(3):  # the optional crop and budget, if asked
        if "请确认需求" in out.text:
            break
        out = chat.send("跳过")
    # the problem is what the person described; the request adds nothing to it
    assert "· 问题：柑橘叶子斑驳发黄 果子红鼻子 是不是黄龙病\n" in out.text
    assert "· 作物：柑橘" in out.text


def test_a_question_at_the_name_prompt_is_answered_not_taken_as_a_name(chat: Chat) -> None:
    chat.send("我是农技站的，搞果树病虫害防治，宜宾翠屏区都能跑")
    out = chat.send("稻瘟病用啥子药")
    assert "来源：《水稻稻瘟病的识别与防治》" in out.text
    assert out.replies[-1].text == "我们继续专家登记：请问怎么称呼您？"


def test_a_person_who_moved_on_is_not_held_in_the_form(chat: Chat) -> None:
    chat.send("我是农技站的，搞果树病虫害防治，宜宾翠屏区都能跑")
    chat.send("稻瘟病用啥子药")
    chat.send("发芽的土豆能吃吗")
    out = chat.send("柑橘溃疡病怎么防治")
    assert out.replies[0].text == "刚才的专家登记先放一放，没有保存。需要时再跟我说。"
    assert "来源：《柑橘溃疡病的识别与防治》" in out.text
    assert "请问怎么称呼您" not in out.text


def test_a_question_inside_a_need_form_is_about_the_forms_crop(chat: Chat) -> None:
    chat.send("我屋头李子树流胶了 想请个专家来看看 翠屏区的")
    chat.send("13800001234")
    out = chat.send("先问下 流胶用啥子药")
    assert "来源：《李树流胶病的成因与防治》" in out.text


def test_self_help_shown_unasked_is_about_the_whole_problem(chat: Chat) -> None:
    out = chat.send("喂 我屋头的海椒叶子卷起来了还有好多小白虫在叶子背后 想找个人来看一哈")
    assert "干辣椒" not in out.text and "请问在哪个地方" in out.text
    out = Chat(chat.assistant, "另一位").send("你好 我种的柑橘今年裂果很多 想找个专家指导一下")
    assert "先看看这条资料" in out.text and "《柑橘裂果与落果的原因和预防》" in out.text


def test_asking_again_for_an_expert_inside_the_need_form_goes_on_with_it(chat: Chat) -> None:
    chat.send("老师 我家鸡儿这两天拉白屎 精神不好 死了三只了")
    out = chat.send("你们有没有懂鸡的专家")
    assert "没有找到" not in out.text and "问问专家" not in out.text
    assert out.text == "好的，正在为您找专家，先把下面这项补上：\n" + ZH["ask_region"]
