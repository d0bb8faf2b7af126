"""An expert's details said in any order and any shape (issue 14 item 6): names run on into a
phone, units after what the person does, several details in one answer, areas added later, a
none answer naming two slots; and an enterprise's budget at its company question."""

from __future__ import annotations

from dialogs import forms
from dialogs.answers import cued_skills
from dialogs.form_reading import updates_from
from dialogs.form_specs import EXPERT, SKIPPED, TECH
from dialogs.form_steps import Ask, Confirm, Step
from dialogs.nlu.intents import understand
from dialogs.nlu.people import lone_name
from dialogs.nlu.slots import extract
from dialogs.state import FormState
from tests.dialogs.chat import Chat

MAOXIAN = {"province": "四川省", "city": "阿坝藏族羌族自治州", "county": "茂县"}


def _step(state: FormState, text: str) -> Step:
    return forms.step(state, understand(text), text)


def test_a_name_running_on_into_the_phone_and_a_unit_after_the_work_are_read():
    got = extract("我叫陈志强电话13900071185我是搞水稻病虫害防治的在南溪区农技站上班职称是农艺师")
    assert (got.name, got.organisation, got.title) == ("陈志强", "南溪区农技站", "农艺师")
    assert got.fields == ["水稻病虫害防治"]  # the crop said with the practice stays with it
    assert extract("单位是汉源县农业农村局").organisation == "汉源县农业农村局"


def test_a_name_after_jiao_and_a_bare_name_in_a_sign_up_are_names():
    got = extract("我是自己种柠檬的 种了十五年 想当个专家帮下周边的 叫周德明")
    assert got.name == "周德明" and got.fields == ["柠檬种植"]
    assert extract("我会养中蜂 想登记当专家").fields == ["中蜂养殖"]  # in their words
    assert lone_name("注册专家 王建国 农艺师 搞果树修剪和施肥") == "王建国"
    assert lone_name("注册专家 赵文 电话15000076614 花椒栽培") == "赵文"
    assert lone_name("登记专家 周末都有空") == ""  # 周末 is no 周 person
    assert extract("水稻病虫害防治").fields == ["水稻病虫害防治"]


def test_research_directions_said_in_an_introduction_are_skills():
    said = "我是土肥所的研究员王海燕，研究方向为紫色土培肥与测土配方施肥，希望注册为平台专家。"
    assert cued_skills(said) == ["紫色土培肥", "测土配方施肥"]


def test_a_none_answer_naming_unit_and_title_drops_both():
    state = FormState("expert", {"fields": ["柠檬种植"]}, awaiting="name")
    step = _step(state, "没得单位 也没得职称")
    assert isinstance(step, Ask) and step.slot == "name"
    assert step.dropped == ("organisation", "title")
    assert step.state.slots["organisation"] == step.state.slots["title"] == SKIPPED


def test_an_area_added_at_the_unit_question_joins_the_areas_and_is_no_unit():
    slots = {"fields": ["花椒栽培"], "service_regions": [MAOXIAN], "name": "赵文"}
    slots["phone"] = "15000076614"
    state = FormState("expert", slots, awaiting="organisation")
    step = _step(state, "再加一个汶川县 我两边都跑")
    counties = [r["county"] for r in step.state.slots["service_regions"]]
    assert counties == ["茂县", "汶川县"]
    assert "organisation" not in step.state.slots
    assert isinstance(step, Ask) and step.slot == "organisation"


def test_unit_and_title_in_one_answer_each_go_to_their_own_slot():
    slots = {"fields": ["花椒栽培"], "service_regions": [MAOXIAN], "name": "赵文"}
    slots.update(phone="15000076614", organisation=SKIPPED)
    state = FormState("expert", slots, awaiting="title")
    step = _step(state, "单位是茂县农业农村局 职称高级农艺师")
    assert step.state.slots["organisation"] == "茂县农业农村局"
    assert step.state.slots["title"] == "高级农艺师"


def test_a_phone_with_its_label_at_the_skills_question_is_no_skill():
    state = FormState("expert", {"name": "王海燕"}, awaiting="fields")
    for said in ("联系电话：13800085530", "电话一三八零零零八五五三零"):
        step = _step(state, said)
        assert "fields" not in step.state.slots, said
        assert step.state.slots["phone"] == "13800085530"


def test_a_budget_at_the_company_question_is_no_company_name():
    slots = {"problem": "芒果炭疽病", "region": MAOXIAN, "phone": "13800090125"}
    state = FormState("tech", slots, awaiting="company")
    step = _step(state, "预算两万元")
    assert "company" not in step.state.slots
    assert step.state.slots["budget"] == 20000
    assert isinstance(step, Ask) and step.slot == "company"


def test_a_county_in_a_cooperative_s_description_is_the_place_of_its_need():
    said = "我们是城口县做中蜂养殖的合作社 好多蜂箱里幼虫死了 想要专家来指导"
    got = updates_from(TECH, extract(said), said, "problem")
    assert got["region"]["county"] == "城口县"
    said = "眉山蜀香泡菜食品有限公司"  # a city in a company's name: not where the need is
    assert "region" not in updates_from(TECH, extract(said), said, "company")


def test_a_changed_amount_at_the_summary_is_the_new_budget():
    slots = {"problem": "茶饼病", "region": MAOXIAN, "phone": "15000044721", "budget": 800}
    state = FormState("need", slots, confirming=True)
    step = _step(state, "算了 还是多给点 改成1500")
    assert isinstance(step, Confirm) and step.state.slots["budget"] == 1500


def test_a_labelled_title_running_on_into_the_next_detail_ends_with_the_title():
    said = "我叫陈志强电话13900071185在南溪区农技站上班职称是农艺师服务范围南溪和江安"
    got = updates_from(EXPERT, extract(said), said, None)
    assert (got["title"], got["organisation"]) == ("农艺师", "南溪区农技站")
    said = "职称是水产工程师"  # the whole title, not the 工程师 inside it
    assert updates_from(EXPERT, extract(said), said, "title")["title"] == "水产工程师"


def test_a_none_answer_naming_another_optional_slot_drops_it_and_asks_again():
    # "没得预算 面议" at the company question: the budget is none; the company question is
    # asked again with that said, not "好的，跳过" as if the company had been skipped
    state = FormState("tech", {"problem": "泡菜发酵工艺"}, awaiting="company")
    step = _step(state, "没得预算 面议")
    assert isinstance(step, Ask) and step.slot == "company"
    assert step.dropped == ("budget",)
    assert step.state.slots["budget"] == SKIPPED and "company" not in step.state.slots
    # the slot asked, named in the none answer, is that slot's answer
    state = FormState("tech", {"problem": "泡菜发酵工艺"}, awaiting="budget")
    step = _step(state, "没有预算")
    assert step.state.slots["budget"] == SKIPPED


def test_a_name_before_the_title_it_holds_is_the_name():
    got = extract("我是西南科技大学生命学院的陈卫东研究员，主攻菌种选育")
    assert (got.name, got.title) == ("陈卫东", "研究员")
    got = extract("我是县农业局的高级农艺师 搞蔬菜")  # 高级 is part of the title, no name
    assert (got.name, got.title) == ("", "高级农艺师")


def test_a_practice_said_once_after_joined_crops_is_each_crop_s():
    assert extract("我会搞花椒和核桃嫁接").fields == ["花椒嫁接", "核桃嫁接"]
    assert extract("主要做小麦与油菜病虫害防治").fields == ["小麦病虫害防治", "油菜病虫害防治"]


def test_a_unit_answered_at_the_area_question_is_the_unit_and_the_area_is_asked_again():
    state = FormState("expert", {"fields": ["果树修剪"]}, awaiting="service_regions")
    got = _step(state, "乐山市农科所")
    assert isinstance(got, Ask) and got.slot == "service_regions"
    assert got.state.slots["organisation"] == "乐山市农科所"
    assert "service_regions" not in got.state.slots


def test_an_achievement_asked_for_halfway_through_signing_up_finishes_the_sign_up(assistant):
    chat = Chat(assistant, "孙研究员")
    chat.send("我想当专家 做魔芋栽培")
    out = chat.send("我要登记成果")
    assert "先把专家登记填完" in out.text and "您能服务哪些地方" in out.text
    assert "没有保存" not in out.text
    for said in ("万源市", "孙立新", "13900007788", "跳过", "跳过"):
        out = chat.send(said)
    assert "请确认登记信息" in out.text and "魔芋栽培" in out.text
    assert "登记成功" in chat.send("确认").text
    assert "成果叫什么名字" in chat.send("我要登记成果").text


def test_a_slot_named_by_its_content_at_the_skills_question_is_no_skill():
    # who they are and where they go, said at "您擅长哪些领域": their slots, the question stays
    state = FormState("expert", {"phone": "15000052863"}, awaiting="fields")
    for said, slot in (
        ("姓名 廖春燕", "name"),
        ("我姓何 何德明", "name"),
        ("单位 重庆丰牧饲料有限公司 职称工程师", "organisation"),
        ("服务铜梁和大足两个区", "service_regions"),
        ("服务区域 荣昌", "service_regions"),
    ):
        step = _step(state, said)
        assert "fields" not in step.state.slots, said
        assert step.state.slots.get(slot), said
        assert isinstance(step, Ask) and step.slot == "fields", said
    assert extract("我叫吉克阿依 在凉山州农业科学研究院").name == "吉克阿依"
    assert extract("哦 名字忘了说 我叫刘思远").name == "刘思远"  # the last name said
    assert cued_skills("我是做猪营养和饲料配方的") == ["猪营养", "饲料配方"]


def test_an_area_at_the_title_question_is_an_area_and_a_sentence_is_no_title():
    slots = {"fields": ["花椒栽培"], "service_regions": [MAOXIAN], "name": "赵文"}
    slots.update(phone="15000076614", organisation=SKIPPED)
    state = FormState("expert", slots, awaiting="title")
    step = _step(state, "我还可以跑汶川县")
    assert [r["county"] for r in step.state.slots["service_regions"]] == ["茂县", "汶川县"]
    assert "title" not in step.state.slots
    assert isinstance(step, Ask) and step.slot == "title"
    step = _step(state, "我平时周末比较有空可以下乡")
    assert "title" not in step.state.slots and isinstance(step, Ask)
    step = _step(state, "乡村兽医")
    assert isinstance(step, Confirm) and step.state.slots["title"] == "乡村兽医"
