"""Messages as typed on phones: traditional characters, full-width forms, domain typos."""

from __future__ import annotations

import pytest

from dialogs.assistant import Assistant
from dialogs.nlu.intents import Intent, understand
from dialogs.nlu.normalise import normalise, to_simplified
from store.questions import QuestionLog
from tests.dialogs.chat import Chat
from tests.dialogs.test_conversations import rows


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("稻温病咋个防", "稻瘟病咋个防"),
        ("是不是黄笼病 要不要砍", "是不是黄龙病 要不要砍"),
        ("是不是草地贪叶蛾 打啥子药", "是不是草地贪夜蛾 打啥子药"),
        ("这个菌合病啷个防", "这个菌核病啷个防"),
        ("担心赤眉病 药要好久打", "担心赤霉病 药要好久打"),
        ("文枯病用啥子药", "纹枯病用啥子药"),
        ("弥猴桃藤子上冒红水", "猕猴桃藤子上冒红水"),
        ("柑桔园头叶子黄了", "柑橘园头叶子黄了"),
        ("上面好多小黑点 碳疽病吧", "上面好多小黑点 炭疽病吧"),
        ("油菜菌合病咋个治", "油菜菌核病咋个治"),
    ],
)
def test_domain_typos_are_corrected(typed: str, meant: str):
    result = normalise(typed)
    assert result.text == meant
    assert result.original == typed
    assert result.corrections


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("心肺复素按胸口要按好深", "心肺复苏按胸口要按好深"),
        ("太阳能杀充灯开到几点", "太阳能杀虫灯开到几点"),
        ("是不是一氧化炭中毒", "是不是一氧化碳中毒"),
        ("体检查出幽门罗杆菌阳性", "体检查出幽门螺杆菌阳性"),
        ("是低血搪吗", "是低血糖吗"),
    ],
)
def test_topics_articles_are_about_are_spelt_as_they_spell_them(typed: str, meant: str):
    # not crop or pest names: the words the articles are about (their tags)
    assert normalise(typed).text == meant


def test_a_topic_typo_index_reads_the_topics_it_is_given():
    from dialogs.nlu.typos import build_index
    from knowledge.lexicons import default_lexicon

    plain = build_index(default_lexicon(), topics=())
    topics = build_index(default_lexicon(), topics=("心肺复苏",))
    assert not plain.corrections("心肺复素按胸口")
    assert [(c.wrong, c.right) for c in topics.corrections("心肺复素按胸口")] == [
        ("心肺复素", "心肺复苏")
    ]


def test_a_correction_says_what_it_changed():
    [c] = normalise("稻温病咋个防").corrections
    assert (c.start, c.wrong, c.right, c.kind) == (0, "稻温病", "稻瘟病", "homophone")


def test_sichuan_sound_confusions_are_tolerated():
    # n/l: 流 for 牛; an/ang, en/eng, in/ing and f/h fold the same way
    assert normalise("牛角充咋个治").text == "牛角虫咋个治"
    assert normalise("黄龙饼咋个办").text == "黄龙病咋个办"


def test_traditional_characters_become_simplified():
    assert normalise("請問小麥葉子上有黃色鏽粉").text == "请问小麦叶子上有黄色锈粉"
    assert normalise("這是條鏽病嗎 用什麼藥").text == "这是条锈病吗 用什么药"


def test_simplified_text_keeps_its_own_characters():
    # OpenCC would write 抽薹 as 抽苔; simplified text is left alone
    for text in ("莴笋抽薹早", "菜薹", "显著提高产量", "他著急了", "乾隆", "面条", "里面"):
        assert to_simplified(text) == text


def test_full_width_letters_and_digits_become_half_width():
    out = normalise("电话１３９００００５６７８，ＡＢＣ品种，预算１．５万？")
    assert out.text == "电话13900005678，ABC品种，预算1.5万？"  # Chinese punctuation stays


ORDINARY = [
    "屋头的猪这几天不吃食 发烧 耳朵发紫 有没有兽医能来看下 我在渠县有庆镇",
    "这单我接不了 麻烦转给别人",
    "今天几号",
    "除草剂打到苞谷上了 叶子黄了 还有救没得",
    "李树流胶是什么原因引起的",
    "熬夜对身体伤害有多大",
    "转基因食品到底安不安全",
    "天气预报说寒潮要来了零下几度 麦子油菜要做些啥子准备",
    "黄心猕猴桃好吃不",
    "小麦叶锈病和条锈病咋个分",
    "悬挂实蝇诱捕器要挂好多个",
    "枝干腐烂并流胶是啥子病",
    "山羊、绵羊都会得这个病吗",
    "伤口是病菌进入的门户",
    "排除巴氏杆菌病、大肠杆菌病",
    "放养鸡常吃蚯蚓要驱虫不",
    "小麦条锈病是气传病害",
    "涨大水淹过的稻田叶子发白",
    "猕猴桃疏蕾疏果要疏掉哪些",
    "病虫害严重的秸秆要堆沤高温腐熟",
    "带毒种薯是最主要的来源",
    "被狗咬了要接种狂犬病疫苗",
    "电瓶车推到屋头充电安全不",
    "收获后清理秸秆和病叶",
    "高温热浪更频繁了",
    "泥鳅池塘养殖要点",
    "我是农技站的，搞果树病虫害防治十几年了，泸州合江一带都能跑",
    "泸州合江的晚熟柑橘黄龙病严重，想请专家来看看，电话13800005678，预算一万五",
    "稻瘟病怎么防治？",
    "我在宜宾翠屏区，李子园土壤酸化板结，果子产量低，想请专家来看看",
    "手机用了两年卡得很 点个微信都要等半天 咋个弄",
    "住在六楼 要是地震了是往楼下跑还是躲卫生间",
    "土豆放久了发芽了 把芽芽挖干净炒来吃有没得问题",
    "天亮之前塘里鱼全部浮起来嘴巴张起 是不是闷到了",
    "好的，谢谢老师！",
    "/orders",
    "接单 27",
    "花椒叶子卷起来了 上面有好多小虫子",
    "鱼种放养选冬季好不好",
    "磷酸二氢钾用0.2%～0.3%的浓度",
    "梨子树叶巴上长起橙黄色的圆斑斑",  # 梨子 is a fruit of its own, not 李子 misheard
    "我们金川的梨子树叶巴上长些锈斑斑",
    "地震躲在桌子下面还是墙角",  # 地震 and a neighbour, not the tag 地震多
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_come_out_unchanged(text: str):
    assert normalise(text).text == text


def test_understanding_reads_the_corrected_text():
    parse = understand("柑桔园头有几棵叶子黄一块绿一块的 是不是黄笼病")
    assert parse.slots.crop == "柑橘"
    assert "黄龙病" in parse.slots.pests
    assert parse.clean == "柑橘园头有几棵叶子黄一块绿一块的 是不是黄龙病"
    assert parse.text == "柑桔园头有几棵叶子黄一块绿一块的 是不是黄笼病"  # as written


def test_traditional_question_is_understood():
    parse = understand("請問小麥葉子上有黃色鏽粉 這是條鏽病嗎")
    assert parse.intent == Intent.QUESTION
    assert parse.slots.crop == "小麦"
    assert parse.slots.pests == ["小麦条锈病"]


def test_a_typo_question_is_answered_from_the_right_article(chat: Chat, assistant: Assistant):
    out = chat.send("稻温病咋个防")
    assert "《水稻稻瘟病的识别与防治》" in out.replies[0].text
    [log] = rows(assistant, QuestionLog)
    assert (log.question, log.top_hit) == ("稻温病咋个防", "grain-rice-blast")  # as typed


# The two tests below assert on the question log's top hit (the ranking `tianfu kb search`
# shows) rather than on a cited answer: both rank the right article first once normalised, but
# under the confidence floor that is being recalibrated (0.31 and 0.41 against 0.45).


def test_dialect_and_typos_find_the_huanglongbing_article(chat: Chat, assistant: Assistant):
    typed = "柑桔园头有几棵叶子黄一块绿一块的 果子屁股红脑壳青 是不是黄笼病 要不要砍"
    parse = assistant.understand(typed)
    assert (parse.slots.crop, parse.slots.pests) == ("柑橘", ["黄龙病"])
    chat.send(typed)
    [log] = rows(assistant, QuestionLog)
    assert (log.question, log.top_hit) == (typed, "hort-citrus-huanglongbing")


def test_traditional_question_finds_the_stripe_rust_article(chat: Chat, assistant: Assistant):
    chat.send("請問小麥葉子上有黃色鏽粉")
    [log] = rows(assistant, QuestionLog)
    assert (log.question, log.top_hit) == ("請問小麥葉子上有黃色鏽粉", "grain-wheat-stripe-rust")


def test_full_width_budget_is_read_after_normalising():
    # the budget parser alone reads "１．５万" as 5万; the normalised text is 1.5万
    assert understand("想请专家来指导 预算１．５万").slots.budget == 15000


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("蜂满咋个治 用啥药不伤蜂", "蜂螨咋个治 用啥药不伤蜂"),
        ("花焦流胶病咋个治", "花椒流胶病咋个治"),
        ("重搂种子为啥子要处理那么久才出苗", "重楼种子为啥子要处理那么久才出苗"),
        ("香菇棚里姑蚊多得很", "香菇棚里菇蚊多得很"),
        ("猪温疫苗一年打几回", "猪瘟疫苗一年打几回"),
    ],
)
def test_two_character_homophones_of_pests_and_crops_are_corrected(typed: str, meant: str):
    assert normalise(typed).text == meant


@pytest.mark.parametrize(
    "text",
    [
        "倒春寒把茶芽冻红了 还救得回来不",  # 冻红 is no 东红 (a kiwi's alias)
        "找个专家看一哈子洋芋种",  # 一哈子 is no 蝎子
        "鸡拉血便 求兽医上门 大竹县",  # a place's name: 竹县 is no 竹象
        "我们学校想请专家给学生讲防震减灾",  # 学生|讲 is no 生姜
        "大蒜叶尖黄是咋回事",  # 叶尖 is a word: 尖黄 is no 姜黄
        "老熟幼虫在土里化蛹",  # 老熟 is written in the articles: no 老鼠
        "脆李子里头有虫 一掰开就是白蛆蛆",  # a doubled character, said on purpose
    ],
)
def test_two_character_words_that_only_sound_like_a_term_stay(text: str):
    assert normalise(text).text == text


def test_a_pest_of_one_crop_names_the_crop_but_a_pest_of_an_animal_does_not():
    assert understand("二化瞑一年发几代哦 我们井研这边").slots.crop == "水稻"
    assert understand("蜂满咋个治 用啥药不伤蜂").slots.crop == "蜜蜂"
    assert understand("被马蜂蛰了手肿得好大 要不要去医院").slots.crop == ""


def test_sorghum_by_its_liquor_country_name():
    assert understand("古蔺这边红粱育苗出来苗子发黄").slots.crop == "高粱"


@pytest.mark.parametrize(
    ("text", "crop"),
    [
        ("蜂子越冬要注意啥子", "蜜蜂"),  # the Sichuan word for bees
        ("屋头的鸡精神不好 冠子发黑", "鸡"),  # 鸡精神 is no 鸡精 (a seasoning)
        ("屋头有股臭鸡蛋味 是不是天然气漏了", ""),  # a gas leak's smell
    ],
)
def test_crops_of_everyday_words(text: str, crop: str):
    assert understand(text).slots.crop == crop
