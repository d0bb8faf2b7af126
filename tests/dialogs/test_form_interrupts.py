"""A form question never swallows what is not an answer to it (issue 14, item 6): commands,
corrections naming their slot, a resume word, a 确认 before the summary, a correction word
followed by a command."""

from __future__ import annotations

from sqlmodel import select

from dialogs.assistant import Assistant
from dialogs.nlu.slots import extract
from store.experts import ExpertProfile
from store.needs import Need
from store.users import User
from tests.dialogs.chat import Chat


def _profile(assistant: Assistant, who: str) -> tuple[User, ExpertProfile]:
    with assistant.session_factory() as s:
        user = s.exec(select(User).where(User.external_id == who)).one()
        profile = s.exec(select(ExpertProfile).where(ExpertProfile.user_id == user.id)).one()
        return user, profile


def _needs(assistant: Assistant) -> list[Need]:
    with assistant.session_factory() as s:
        return list(s.exec(select(Need)))


def _to_name_question(chat: Chat) -> None:
    for answer in ("我想当专家", "果树栽培", "仁寿 丹棱"):
        chat.send(answer)
    assert chat.last.replies[-1].text == "请问怎么称呼您？"


def test_commands_at_the_name_question_are_done_and_the_question_stays(
    assistant: Assistant,
):
    chat = Chat(assistant, "小李")
    _to_name_question(chat)
    for command in ("找项目", "接单"):
        out = chat.send(command)
        assert out.replies[0].text.startswith("您还没有登记为专家")  # the command's own reply
        assert out.replies[-1].text == "请问怎么称呼您？"
    out = chat.send("李建华")
    assert out.replies[-1].text.startswith("请留一个联系电话")
    for answer in ("13800012121", "跳过", "跳过", "确认"):
        chat.send(answer)
    user, _ = _profile(assistant, "小李")
    assert user.display_name == "李建华"


def test_a_slot_corrected_by_name_at_its_own_question_takes_the_new_value(
    assistant: Assistant,
):
    chat = Chat(assistant, "老孙")
    _to_name_question(chat)
    for answer in ("孙建国", "13800012122"):
        chat.send(answer)
    out = chat.send("单位改成四川农业大学")
    assert out.replies[0].text == "已改为：单位 四川农业大学。"
    assert out.replies[-1].text.startswith("您的职称是？")
    out = chat.send("继续登记")  # a resume word: the open question again, nothing stored
    assert out.text.startswith("您的职称是？")
    out = chat.send("不对 是眉山市农业农村局")  # the unit corrected at the title question
    assert out.replies[0].text == "已改为：单位 眉山市农业农村局。"
    assert out.replies[-1].text.startswith("您的职称是？")
    chat.send("高级农艺师")
    chat.send("确认")
    _, profile = _profile(assistant, "老孙")
    assert (profile.organisation, profile.title) == ("眉山市农业农村局", "高级农艺师")


def test_confirm_before_the_summary_posts_once_nothing_required_is_missing(chat: Chat):
    chat.send("柑橘叶子黄 想找专家 我在宜宾江安")
    out = chat.send("确认")  # the phone question is open: asked again
    assert out.replies[0].text.startswith("还没到确认这一步")
    assert out.replies[-1].text.startswith("请留一个联系电话")
    assert _needs(chat.assistant) == []
    chat.send("13800011223")
    out = chat.send("确认")  # the budget question (optional): done, posted, said back
    assert out.replies[0].text.startswith("好的，其余选填项不填，按以下信息提交")
    assert "电话：13800011223" in out.replies[0].text and "预算" not in out.replies[0].text
    assert "需求已发布" in out.text
    assert len(_needs(chat.assistant)) == 1
    chat.send("确认")  # a second confirm posts nothing more
    assert len(_needs(chat.assistant)) == 1


def test_a_correction_word_then_a_command_leaves_the_form_for_the_command(chat: Chat):
    chat.send("订阅 柑橘")
    chat.send("确认")
    chat.send("李子树流胶 想请专家来看看 我在泸州合江")  # a need form is open
    out = chat.send("不对我要退订")
    assert "先放一放" in out.text and "已退订" in out.text
    assert chat.topics() == []
    assert "请留一个联系电话" not in out.text  # the form is gone, not asked again
    out = chat.send("13800011224")
    assert "预算" not in out.text


# ---- slots come from what the whole message says, not from the order of the questions ----
def test_an_expert_introduction_puts_each_detail_in_its_own_field(chat: Chat):
    out = chat.send("我是宜宾学院的讲师 孙伟 做柑橘病虫害 电话13800001234")
    for line in ("· 称呼：孙伟", "· 单位：宜宾学院", "· 职称：讲师", "· 电话：13800001234"):
        assert line in out.text


def test_units_and_narrowed_fields_are_read_from_their_words():
    s = extract("本人张敏，我是四川农业大学的，职称副研究员，研究方向为果蔬加工与保鲜")
    assert (s.name, s.organisation, s.title) == ("张敏", "四川农业大学", "副研究员")
    assert extract("不对 是四川农业大学").organisation == "四川农业大学"
    assert extract("猪病 牛羊病").fields == ["猪病防治", "牛羊病防治"]
    assert extract("我是农民 李子 桃子都种").name == ""  # 李子 standing alone is a crop


def test_a_narrowed_field_keeps_the_category_of_the_field_inside_it(assistant: Assistant):
    matching = assistant.matching
    assert matching.category_of("果树病虫害防治") == matching.category_of("病虫害防治")
    assert matching.category_of("病虫害防治") is not None


def test_enterprise_answers_land_in_their_own_slots(assistant: Assistant):
    chat = Chat(assistant, "天府农机")
    out = chat.send("我想登记企业")
    assert "企业名称：" not in out.text  # the request names no company
    assert out.replies[-1].text.startswith("贵单位（企业）的名称是？")
    chat.send("农机销售")  # the industry, said first: taken as the name for now
    out = chat.send("成都天府农机有限公司")  # the real name at the industry question
    assert out.replies[0].text == "已改为：企业名称 成都天府农机有限公司。"
    assert out.replies[-1].text.startswith("主要做哪个行业")
    out = chat.send("郫都")  # a place at the industry question: the place, not the industry
    assert "已记下：地点 四川省成都市郫都区" in out.text
    assert out.replies[-1].text.startswith("主要做哪个行业")
    for answer in ("农机销售", "张伟", "13800022335", "跳过"):
        out = chat.send(answer)
    assert "· 行业：农机销售" in out.text and "· 联系人：张伟" in out.text


def test_a_place_corrected_inside_the_first_message_is_the_last_place(chat: Chat):
    out = chat.send("猕猴桃树流红水 请个专家 苍溪的 不对不对 我现在是在旺苍")
    assert "地点：四川省广元市旺苍县" in out.text and "苍溪" not in out.replies[-2].text


def test_a_none_answer_naming_unit_and_title_skips_both(assistant: Assistant):
    chat = Chat(assistant, "赵永福")
    for answer in ("想申请当专家", "中蜂养殖 蜂病防治", "通江 南江", "赵永福", "15000013131"):
        chat.send(answer)
    out = chat.send("没得单位 也没有职称 自己养蜂的")
    assert "请确认登记信息" in out.text and "职称是" not in out.text
