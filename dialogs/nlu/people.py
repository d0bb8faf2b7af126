"""Who is speaking: a person's name, unit, title and availability as they introduce
themselves ("我是农技站的李建国", "高级农艺师杨国平", "周末有空")."""

from __future__ import annotations

import re

from dialogs.nlu.regions import find_mentions
from dialogs.nlu.terms import find_crops
from knowledge.lexicons import default_lexicon

# common surnames: a two- or three-character answer starting with one reads as a person's name
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_BARE_NAME = re.compile(rf"^\s*[{SURNAMES}][\u4e00-\u9fff]{{1,2}}\s*[。.]?\s*$")


# "我是兽医", "我是农民": who they are, not what to call them
_ROLE = re.compile(r"专家|农民|农户|技术员|兽医|医生|师傅|员$|户$|工$|学生|博士|硕士|研究生|退休")


def is_name(word: str) -> bool:
    """ "赵永福" after 我是 is a name; "会理的", "石柱人", "农技站" are not (where, what)."""
    if ORG.match(word) or word[-1] in "的人" or _ROLE.search(word) or TITLE.search(word):
        return False
    mentions = find_mentions(word)
    return not (mentions and mentions[0].start == 0 and len(mentions[0].text) >= len(word) - 1)


# a self-introduction, and a surname-led word standing alone in it (between spaces or commas)
# ("注册专家 王建国 农艺师": signing up is introducing oneself too)
_INTRO = re.compile(r"我是|本人|我叫|我姓|注册|登记|入驻|当专家|成为专家")
_LONE_NAME = re.compile(rf"(?:^|[\s，,。、])([{SURNAMES}][\u4e00-\u9fff]{{1,2}})(?=$|[\s，,。、])")


def lone_name(text: str) -> str:
    """ "我是宜宾学院的讲师 孙伟 做柑橘病虫害" -> 孙伟: a bare name standing alone in a
    self-introduction ("" when none; 李子 standing alone is a crop)."""
    if not _INTRO.search(text):
        return ""
    lex = default_lexicon()
    lone = (m.group(1) for m in _LONE_NAME.finditer(text) if is_name(m.group(1)))
    return next((w for w in lone if not find_crops(w, lex)), "")


def looks_like_name(text: str) -> bool:
    """ "李国强", "王芳": a bare personal name."""
    return bool(_BARE_NAME.match(text))


_TITLES = (
    r"高级农艺师|正高级农艺师|农艺师|助理农艺师|高级兽医师|执业兽医师?|兽医师|高级畜牧师|畜牧师|"
    r"助理研究员|研究员|副研究员|副教授|教授|讲师|高级工程师|工程师|技术员|农技员|推广研究员"
)
TITLE = re.compile(rf"({_TITLES})")
_UNIT = (
    r"(?:农技站|农技中心|农业农村局|农业局|林业局|畜牧局|科技局|畜牧站|兽医站|植保站|农科院|农科所|"
    r"农业科学院|研究院|研究所|研究中心|试验站|大学|学院|"
    r"合作社|公司|家庭农场|农场|推广总站|总站|推广站|推广中心|服务中心|水产站|林业站|茶叶站|果树站)"
)
# "四川省农业科学院植物保护研究所": a unit inside a larger one is named with it
# ("搞水稻病虫害防治的在南溪区农技站上班", "单位是汉源县农业农村局": a unit's name holds no
# 的, 在 or 是; the words before them are what the person does, or a lead-in)
ORG = re.compile(
    rf"((?:(?![的在是])[\u4e00-\u9fff]){{0,12}}?{_UNIT}(?:[\u4e00-\u9fff]{{1,8}}?{_UNIT})?)"
)
# "我在", "不对 是", "现在在": the words before a unit's name are no part of it
ORG_LEAD = re.compile(r"^(?:不对|不是|应该是|就是|我是|我在|本人|来自|我们|现在|目前|是|在)+")
NAME = re.compile(
    r"(?:我叫|我是|本人|(?:名字|姓名)(?:叫|是)?[:：]?|(?:^|(?<=[\s，,。]))叫)\s*"
    r"([\u4e00-\u9fff]{1}(?:老师|[\u4e00-\u9fff]{1,2}))"
    # "我叫陈志强电话139…", "叫周德明 搞柠檬的": what follows the name starts another detail
    r"(?=[，,。\s]|$|是|在|，|电话|手机|联系|今年|从事|擅长|专门|主要|负责|职称|单位)"
)
# "我是农技站的李建国", "我是川农的副教授李明": the name after the unit it works for, or
# after the title it holds
# "我叫吉克阿依", "姓名 欧阳明华": a four-character name (Yi, Tibetan, double surnames) said
# with a word that can only introduce a name
NAME_CALLED = re.compile(
    r"(?:我叫|(?:名字|姓名)(?:叫|是)?[:：]?)\s*"
    r"((?:(?!电话|手机|联系|职称|单位|今年|从事|擅长|专门|主要|负责)[\u4e00-\u9fff]){4})"
    r"(?=[，,。\s]|$|电话|手机|联系|今年|从事|擅长|专门|主要|负责|职称|单位)"
)
NAME_AFTER_UNIT = re.compile(
    rf"(?:我是|本人是?)[\u4e00-\u9fff]{{2,15}}?(?:的|{_TITLES})"
    rf"([{SURNAMES}][\u4e00-\u9fff]{{1,2}})(?=[，,。\s]|$)"
)
# "高级农艺师杨国平主要搞花椒": the name right after a title, before what they do
NAME_AFTER_TITLE = re.compile(
    rf"(?:师|研究员|教授|讲师|员)([{SURNAMES}][\u4e00-\u9fff]{{1,2}}?)"
    r"(?=[，,。\s]|$|主要|专门|负责|从事|擅长|搞|做|电话|服务|能|可以)"
)
# "食品学院的王刚教授，研究发酵": the name right before the title it holds (高级农艺师 is
# a title, not 高 the surname)
NAME_BEFORE_TITLE = re.compile(
    rf"(?:^|[的是\s，,。])(?!{_TITLES})([{SURNAMES}][\u4e00-\u9fff]{{1,2}}?)(?:{_TITLES})"
    r"(?=[，,。\s]|$|主要|专门|负责|从事|擅长|研究|搞|做|电话|服务|能|可以)"
)
# what a title is not: a person speaking, a time, an ability, a question
_NOT_TITLE = re.compile(r"[我你他她]|可以|能|会|有空|周末|平时|[吗呢？?]|\d")


def is_title(value: str) -> bool:
    """ "高级农艺师", "乡村兽医" are titles; "我平时周末有空", "宣汉县", "13800001111" are not
    (a sentence, a place, a phone)."""
    if TITLE.search(value):
        return True
    if not 2 <= len(value) <= 10 or _NOT_TITLE.search(value) or re.search(r"\s", value):
        return False
    mentions = find_mentions(value)
    return not (mentions and len(mentions[0].text) >= len(value) - 1)


AVAIL = re.compile(r"(周末|工作日|随时|晚上|白天|节假日|每周[一二三四五六日天]|上午|下午)")
