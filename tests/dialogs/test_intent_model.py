"""Intents from the trained model (issue 14): natural phrasings reach the right form, and a
message the model cannot place between "find me an expert" and "answer my question" gets one
clarifying question instead of a guess."""

from __future__ import annotations

import pytest
from sqlmodel import select

from dialogs.actions import Act, Action, parse_action
from dialogs.assistant import Assistant
from dialogs.i18n import ZH
from dialogs.nlu.intents import Intent, forget_parses, understand
from dialogs.nlu.model import IntentModel, Ranked
from dialogs.nlu.slots import Slots
from dialogs.state import ConversationState as Conversation
from dialogs.state import FormState
from dialogs.types import Incoming
from store.conversations import ConversationState
from store.questions import QuestionLog
from tests.dialogs.chat import Chat

EXPERT_QUESTIONS = tuple(
    ZH[k]
    for k in ("ask_fields", "ask_service_regions", "ask_name", "ask_expert_phone", "ask_title")
)
NEED_QUESTIONS = tuple(ZH[k] for k in ("ask_problem", "ask_crop", "ask_region", "ask_phone"))
ASK = "您是想请专家上门帮忙，还是先问个问题？"
# need and question nearly tied for the bundled model: "ask the expert" may mean either
# torn between need and question, and nothing in the knowledge base answers it: ask
TORN = "想问问专家，草莓叶子发红"  # (葡萄 has a downy mildew article now)
# torn too, but an article answers it: answered, with the expert offer
TORN_ANSWERABLE = "想问问专家，茶树叶子发红"


@pytest.fixture(autouse=True)
def _torn(monkeypatch: pytest.MonkeyPatch) -> None:
    """The TORN messages rank need and question close together, whatever the bundled model's
    latest training makes of them: these tests are about what a torn ranking does."""
    rank = IntentModel.rank

    def ranked(self: IntentModel, text: str, slots: Slots) -> Ranked:
        if text in (TORN, TORN_ANSWERABLE):
            return Ranked(("need", "question", "capability"), (0.6, 0.3, 0.05))
        return rank(self, text, slots)

    monkeypatch.setattr(IntentModel, "rank", ranked)
    forget_parses()
    yield
    forget_parses()


def saved(assistant: Assistant, user: str) -> Conversation:
    with assistant.session_factory() as s:
        row = s.exec(
            select(ConversationState).where(ConversationState.external_id == user)
        ).first()
        return Conversation.from_json(dict(row.data) if row else {})


@pytest.mark.parametrize(
    "text",
    [
        "我想入驻平台当专家",
        "专家登记",
        "我要登记成专家",
        "四川农业大学茶学老师，可以提供茶园管理指导",
        "可以接泸州一带的单子",
    ],
)
def test_signing_up_as_an_expert_in_any_words_opens_the_expert_form(
    chat: Chat, assistant: Assistant, text: str
):
    out = chat.send(text)
    assert out.replies[-1].text.startswith(EXPERT_QUESTIONS)
    form = saved(assistant, chat.user).form
    assert form is not None and form.name == "expert"


@pytest.mark.parametrize("text", ["求专家", "求推荐专家", "急需技术支持", "哪位专家可以帮忙"])
def test_asking_for_an_expert_opens_the_need_form(chat: Chat, assistant: Assistant, text: str):
    out = chat.send(text)
    assert out.replies[-1].text.startswith(NEED_QUESTIONS)
    form = saved(assistant, chat.user).form
    assert form is not None and form.name == "need"


def test_what_can_you_do_gets_the_help(chat: Chat):
    assert chat.send("你能做啥子").text.startswith("您好，我是天府科技助手。")


def test_a_how_to_question_is_answered_not_turned_into_a_need(chat: Chat, assistant: Assistant):
    chat.send("怎样科学使用农药才安全")
    assert saved(assistant, chat.user).form is None
    with assistant.session_factory() as s:
        asked = [q.question for q in s.exec(select(QuestionLog)).all()]
    assert asked == ["怎样科学使用农药才安全"]


def test_commands_and_control_words_stay_exact():
    assert understand("接单 12").command is not None
    assert understand("评价 12 5").command is not None
    assert understand("已解决 3").intent == Intent.ORDER
    assert understand("/stats").intent == Intent.STATS
    assert understand("好的").intent == Intent.SMALLTALK
    assert understand("退订 柑橘").intent == Intent.UNSUBSCRIBE


# ---- need or question? ---------------------------------------------------------------------
def test_torn_message_asks_and_the_expert_button_opens_the_need_form(
    chat: Chat, assistant: Assistant
):
    out = chat.send(TORN)
    assert out.text == ASK
    assert chat.buttons() == ["请专家上门帮忙", "先问个问题"]
    assert saved(assistant, chat.user).pending == TORN
    out = chat.press("请专家上门帮忙")
    form = saved(assistant, chat.user).form
    assert form is not None and form.name == "need"
    assert "草莓" in out.text  # the kept message filled the form: 作物：草莓
    assert out.replies[-1].text.startswith(NEED_QUESTIONS)
    assert saved(assistant, chat.user).pending is None


def test_torn_message_then_the_question_button_answers_it(chat: Chat, assistant: Assistant):
    chat.send(TORN)
    chat.press("先问个问题")
    assert saved(assistant, chat.user).form is None
    with assistant.session_factory() as s:
        asked = [q.question for q in s.exec(select(QuestionLog)).all()]
    assert asked == [TORN]


def test_torn_message_answered_by_typing(chat: Chat, assistant: Assistant):
    chat.send(TORN)
    chat.send("请专家")
    form = saved(assistant, chat.user).form
    assert form is not None and form.name == "need"


def test_moving_on_drops_the_clarification(chat: Chat, assistant: Assistant):
    chat.send(TORN)
    out = chat.send("稻瘟病怎么防治")
    assert ASK not in out.text and saved(assistant, chat.user).pending is None
    # the old button, pressed late, is spent: no need form out of nowhere
    late = assistant.handle(
        Incoming(chat.channel, chat.user, action=Action(Act.WANT_EXPERT), display_name=chat.user)
    )
    assert late.text == ZH["nothing_to_cancel"]
    assert saved(assistant, chat.user).form is None


@pytest.mark.parametrize("kind", [Act.WANT_EXPERT, Act.WANT_ANSWER])
def test_clarification_buttons_survive_the_wire(kind: Act):
    action = Action(kind)
    assert parse_action(str(action)) == action


def test_a_state_saved_before_the_clarification_existed_still_loads():
    old = {"v": 2, "form": {"name": "need", "slots": {"crop": "李"}, "awaiting": "region"}}
    state = Conversation.from_json(old)
    assert state.form == FormState("need", {"crop": "李"}, "region", False)
    assert state.pending is None
    state.pending = TORN
    assert Conversation.from_json(state.to_json()).pending == TORN
    state.clear_form()
    assert state.pending is None


def test_a_torn_message_the_knowledge_base_answers_is_answered_with_the_offer(chat: Chat):
    out = chat.send(TORN_ANSWERABLE)
    # leafhoppers and mites both redden tea leaves; either article answers it
    assert ASK not in out.text
    assert "来源：《茶小绿叶蝉的识别与防治》" in out.text or "来源：《茶橙瘿螨和茶黄螨" in out.text
    assert chat.buttons()[-2:] == ["找专家", "不用了"]


def test_what_is_seen_told_without_a_question_word_is_answered(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
):
    """Read as small talk by an unsure intent model, a message the knowledge base answers
    surely is answered: retrieval, not the intent, decides what is answerable."""
    text = "吃了虾全身起疹子，喉咙发紧喘不过气"
    # the unsure small-talk reading is fixed here, whatever the bundled model's latest
    # training makes of the message (it now reads it as a question)
    rank = IntentModel.rank

    def ranked(self: IntentModel, typed: str, slots: Slots) -> Ranked:
        if typed == text:
            return Ranked(("smalltalk", "question", "other"), (0.35, 0.3, 0.2))
        return rank(self, typed, slots)

    monkeypatch.setattr(IntentModel, "rank", ranked)
    forget_parses()
    parse = understand(text)
    assert parse.intent == Intent.SMALLTALK and parse.confidence < 0.85
    out = chat.send(text)
    assert "来源：《严重过敏反应（过敏性休克）怎么识别和急救》" in out.text


@pytest.mark.parametrize("text", ["收到", "看看我的个人信息", "明白了 就这样吧"])
def test_a_sure_control_word_is_not_looked_up(chat: Chat, text: str):
    # the intent model is sure of these; an article that shares their words answers nothing
    assert "来源：" not in chat.send(text).text


def test_a_faint_other_reading_is_no_doubt():
    """Need and question are torn only when the other one is a real contender."""
    from dialogs.nlu.intents import is_unsure

    faint = Ranked(("need", "capability", "question"), (0.84, 0.04, 0.03))
    torn = Ranked(("need", "question", "capability"), (0.6, 0.3, 0.05))
    assert not is_unsure(faint) and is_unsure(torn)


def test_a_need_with_its_place_and_phone_opens_the_need_form(chat: Chat):
    out = chat.send("玉米遭虫吃了 好多心叶被咬烂 我在三台 电话15000090123")
    assert ASK not in out.text and ZH["ask_budget"] in out.text
    out = chat.send("预算500")
    assert out.text.startswith("请确认需求：")
    out = chat.send("是的 提交")  # confirm words, whatever intent the model reads in them
    assert "需求已发布" in out.text


@pytest.mark.parametrize(
    "text", ["我家猪生病了 不吃食 我是荣昌的", "我是荣昌的 屋头的猪儿不吃食了"]
)
def test_saying_where_one_is_from_is_no_expert_sign_up(chat: Chat, assistant: Assistant, text):
    """ "我是荣昌的" says where a farmer lives; only who they are ("我是荣昌的兽医") is a
    self-introduction."""
    assert understand(text).intent is Intent.NEED
    chat.send(text)
    form = saved(assistant, chat.user).form
    assert form is None or form.name == "need"
    assert understand("我是荣昌的兽医 可以上门看猪病").intent is Intent.CAPABILITY


def _cues(text: str) -> set[str]:
    from dialogs.nlu.model import cues
    from dialogs.nlu.slots import extract

    return set(cues(text, extract(text)))


def test_a_span_of_years_is_no_experience_and_asking_is_no_request():
    assert "offer" not in _cues("二化螟一年发几代哦")
    assert "offer" not in _cues("导出我这两年发过的所有需求记录")
    assert "offer" in _cues("我在农技站干了十八年")
    assert "offer" in _cues("养了二十多年蜂了")
    assert "seek" not in _cues("请问柑橘黄龙病有得治没有")
    assert "seek" in _cues("请个专家来看看")


def test_engaging_someone_and_owning_an_achievement_are_cues_of_their_own():
    assert {"engage", "organisation_speaks", "engage+organisation_speaks"} <= _cues(
        "本公司拟聘请一位酿酒专家担任长期顾问"
    )
    assert "engage" not in _cues("我们合作社的茶叶烂根了")  # 合作社 is no cooperation
    assert "result+own_result" in _cues("我们研发出一种茶叶保鲜工艺")
    assert "result+acquire" in _cues("求购一项猕猴桃保鲜的专利")
    assert "acquire" not in _cues("我发过的需求")  # 需求 asks for nothing


@pytest.mark.parametrize(
    "text",
    ["达州市2026年11月", "三台县上个月的", "广元市 2025-12"],
)
def test_a_place_and_a_period_alone_ask_for_the_figures(text: str):
    assert "place_period" in _cues(text)
    assert understand(text).intent == Intent.STATS


def test_a_place_or_a_period_inside_a_sentence_is_no_figures_request():
    assert "place_period" not in _cues("去年在达州种了二十亩李子")
    assert "place_period" not in _cues("达州市")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我们学校想长期聘请一位懂蔬菜种植的老师当顾问", Intent.FIND_TALENT),
        ("我们公司研发出一种新的茶叶烘干工艺 想登记成成果", Intent.ACHIEVEMENT),
        ("求购一项猕猴桃保鲜技术", Intent.FIND_ACHIEVEMENT),
        ("请问葡萄霜霉病能治好不 叶子背面全是白霉", Intent.QUESTION),
    ],
)
def test_engagements_achievements_and_questions_of_new_writers(text: str, intent: Intent):
    assert understand(text).intent == intent


def test_english_subscription_commands_are_commands():
    from dialogs.nlu.intents import rule_intent

    assert rule_intent("unsubscribe") == Intent.UNSUBSCRIBE
    assert rule_intent("Subscribe 科普") == Intent.SUBSCRIBE


def test_stopping_a_kind_of_push_and_engaging_for_a_year_are_cues():
    assert "stop_push" in _cues("霜冻预警不要了 已经开春了")
    assert "stop_push" in _cues("柑橘的不看了 只留茶叶的")
    assert "stop_push" in _cues("屏蔽推送")
    assert "engage" in _cues("想请个懂猕猴桃的常年技术顾问 年薪好商量")
