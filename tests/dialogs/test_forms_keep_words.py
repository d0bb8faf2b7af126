"""Forms that never lose what the person said (issue 14, item 6): a need whose opening names
no problem asks for it, and the problem described at a later question is added to it."""

from __future__ import annotations

from sqlmodel import select

from dialogs.assistant import Assistant
from dialogs.form_reading import describes_problem, updates_from
from dialogs.form_specs import EXPERT
from dialogs.nlu.slots import extract
from store.needs import Need
from tests.dialogs.chat import Chat


def _need(assistant: Assistant) -> Need:
    with assistant.session_factory() as s:
        return s.exec(select(Need)).one()


def test_an_opening_naming_no_problem_asks_for_it(chat: Chat, assistant: Assistant):
    out = chat.send("我要发个需求 茶叶")
    assert out.replies[-1].text.startswith("请简单描述一下遇到的问题")
    out = chat.send("雅安名山")  # a place at the problem question: kept, the question stays
    assert "已记下：地点 四川省雅安市名山区" in out.text
    assert out.replies[-1].text.startswith("请简单描述一下遇到的问题")
    out = chat.send("茶树上好多小绿叶蝉 叶子尖尖都焦了")
    assert out.replies[-1].text.startswith("请留一个联系电话")
    for answer in ("13600001111", "跳过"):
        out = chat.send(answer)
    assert "· 问题：茶树上好多小绿叶蝉 叶子尖尖都焦了" in out.text
    assert "我要发个需求" not in out.text
    chat.send("确认")
    need = _need(assistant)
    assert "小绿叶蝉" in need.text and "我要发个需求" not in need.text
    assert need.category == "pest"


def test_symptoms_at_the_phone_question_add_to_the_problem(chat: Chat, assistant: Assistant):
    chat.send("我要找专家 辣椒")
    chat.send("自贡荣县")
    chat.send("辣椒苗子长得慢")
    out = chat.send("叶子上好多黑斑 果子也烂了")  # at the phone question
    assert "不像有效的电话号码" not in out.text
    assert "已记下：问题" in out.text and "果子也烂了" in out.text
    assert out.replies[-1].text.startswith("请留一个联系电话")
    for answer in ("13800004545", "跳过", "确认"):
        chat.send(answer)
    need = _need(assistant)
    assert "辣椒苗子长得慢" in need.text and "果子也烂了" in need.text


def test_what_names_a_problem():
    for text in ("我要发个需求 茶叶", "雅安名山", "我想找专家", "13600001111"):
        assert not describes_problem(text, extract(text)), text
    for text in ("猪不吃东西", "鱼塘水发绿", "李子园土壤酸化板结，产量低", "苞谷长得不好"):
        assert describes_problem(text, extract(text)), text


def test_every_skill_joined_by_and_is_kept():
    for text, want in (
        ("搞果树病虫害和土壤改良的", {"果树病虫害", "土壤改良"}),
        ("搞柑橘栽培和采后保鲜", {"柑橘栽培", "采后保鲜"}),
        ("做茶叶加工和茶园病虫害", {"茶叶加工", "茶园病虫害"}),
        ("土壤改良、水肥一体化及果树修剪", {"土壤改良", "水肥一体化", "果树修剪"}),
    ):
        got = updates_from(EXPERT, extract(text), text, None)["fields"]
        assert set(got) == want, text


def test_no_at_the_contract_question_is_the_answer_not_an_unsubscribe(chat: Chat):
    chat.send("我们公司想找个搞肉牛养殖的专家 阿坝红原 预算两万 五天内 电话13800006767")
    chat.send("红原牦牛肉业有限公司")
    out = chat.send("不签")
    assert "订阅" not in out.text
    assert "有偿技术服务合同" not in out.text  # answered: not asked again
    assert "请确认" in out.text
