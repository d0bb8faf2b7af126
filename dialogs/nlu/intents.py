"""Intent classification by ordered rules over cue words and the extracted slots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dialogs.nlu.commands import OrderCommand, is_order_text, order_command
from dialogs.nlu.normalise import normalise
from dialogs.nlu.slots import Slots, extract


class Intent(StrEnum):
    NEED = "need"
    CAPABILITY = "capability"
    QUESTION = "question"
    ORDER = "order"
    STATS = "stats"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    PROFILE = "profile"
    HELP = "help"
    SMALLTALK = "smalltalk"
    OTHER = "other"


_STATS = re.compile(
    r"^\s*/stats\b|(?:服务|科技服务|地区|区域).{0,4}(?:指标|统计)|(?:获取率|供给率)|统计数据|数据看板"
)
_HELP = re.compile(
    r"^\s*/?(?:help|start|帮助)\s*$|怎么用|(?:这个|你|这)咋个用|如何使用|该做啥|干啥子的|是干啥|平台是|"
    r"(?:咋个|怎么|如何)发需求|菜单|按钮|当专家.{0,6}条件|使用说明|你能做什么|你会做什么|你能干啥|"
    r"你会干啥|有哪些功能|有啥功能|能帮我做什么|功能介绍|怎么操作|(?:咋个|怎么|如何)注册|要填啥"
)
_UNSUBSCRIBE = re.compile(
    r"^\s*/(?:unsubscribe|stop)\b|退订|取消订阅|不要再?(?:推送|推了|发了)|别再?(?:推送|推|发)了?|停止推送|"
    r"关闭推送|不想(?:再)?收到"
)
_PROFILE = re.compile(
    r"^\s*/profile\b|我的(?:画像|兴趣|订阅)|(?:清空|清除|删除)(?:我的)?(?:画像|兴趣)|兴趣画像|用户画像"
)
_SUBSCRIBE = re.compile(
    r"^\s*/subscribe\b|订阅|订一下|资讯|推送|推给我|推荐给我|发给我|发我|以后.{0,12}(?:告诉|通知|发|推)|想收到|定期.{0,6}(?:发|推|收)|"
    r"关注|每[周天月].{0,6}(?:发|推)|有新.{0,8}(?:通知|告诉|发)|(?:通知|告诉)我\s*$|想.{0,4}收到"
)
_CAPABILITY = re.compile(
    r"以前在.{0,10}(?:当|做|干)|出来做.{0,6}服务|返乡|(?:可以|能)帮忙(?!找|看)|的活也接|也接活|"
    r"(?:养|搞|做|干|从事)[\u4e00-\u9fff]{0,4}[二三四五六七八九十几两]十?[来几多]?年|"
    r"我是.{0,12}(?:专家|农技|技术员|兽医|教授|研究员|农艺师|老师|工程师|推广站|农技站|畜牧站|植保站)|"
    r"本人.{0,12}(?:专业|从事|擅长|工程师|农艺师|兽医|毕业)|我(?:能|可以|会)(?:提供|上门|帮|指导|做)|"
    r"(?:搞|做|从事|干)了?.{0,12}(?:十几年|几十年|多年|[0-9一二三四五六七八九十]+年)|擅长|"
    r"(?:都能跑|都可以跑|都能去|可以上门|能上门|接活|接单子|提供.{0,12}服务|服务范围|注册.{0,4}专家|"
    r"我想当专家|我要当专家|申请.{0,4}专家|成为专家)|"
    r"[0-9一二三四五六七八九十几]+[来几多]?年了|我是(?:做|搞|干|学)|本人(?:学|做|搞)|"
    r"^[\u4e00-\u9fff]{0,6}(?:技术员|植保员|农技员|兽医|农艺师)(?:\s|，|,|$)|"
    r"可以(?:给大家|帮.{0,4})?(?:指导|讲课|培训)|远程指导|有需要的.{0,6}(?:联系|找我)|可以找我|"
    r"我会(?:看|治|做|修|嫁接|养)|会嫁接|会修剪|能提供|都可以指导|专门(?:搞|做|看|治|研究)|都会\s*可以|"
    r"我们(?:团队|公司|合作社)|可以帮.{0,8}(?:搞|做|烘|修|加工|托管|防治)|(?:可以|能)(?:免费)?(?:教|培训|指导)|"
    r"一辈子|退休|分享.{0,4}经验|我(?:是|当).{0,3}师(?:\s|，|,|$)|我养了.{0,6}年|我家有.{0,8}(?:可以|能)帮|持证"
)
_NEED = re.compile(
    r"请.{0,4}专家|找.{0,6}专家|有没有专家|专家.{0,4}(?:来|帮|上门|指导)|找个人|找人|来看看|来看下|过来看|"
    r"上门|帮忙看|帮我看|帮忙|哪个(?:能|可以)?来|哪个帮|来.{0,4}指导|需要.{0,8}(?:指导|服务|帮助|专家|技术员|人)|"
    r"想请|求助|求救|救命|帮我找|技术指导|联系.{0,3}专家|派个|来个人|有人.{0,4}(?:会|懂|能)|懂行的|有经验的|"
    r"想找|找个|请个|现场|实地|来一趟|咨询专家|(?:需要|求|急需|找|请).{0,3}(?:兽医|技术员|农技员|师傅|老师)|"
    r"哪位.{0,6}(?:能来|来|帮)|(?:可以|能|能不能|可不可以)上门|安排.{0,3}(?:个|人|兽医|专家|技术员|植保员)|"
    r"有没得.{0,6}(?:懂|会)|有(?:懂|会).{0,8}(?:没得|没有|吗)|派.{0,2}(?:人|个|兽医|专家)|明白人|"
    r"(?:会|懂).{0,8}的(?:师傅|人|专家|老师)|哪个会|帮忙找|没人能来|来帮我|麻烦.{0,4}(?:联系|安排|派|找)"
)
_QUESTION = re.compile(
    r"怎么|咋个|咋办|咋整|如何|什么|啥子|为什么|为啥|啥|能不能|可不可以|可以.{0,6}吗|是不是|有没有|"
    r"哪种|哪些|哪个好|多少|几月|几天|何时|什么时候|会不会|要不要|对不对|好不好|行不行|吗[？?]?\s*$|"
    r"[？?]|哪门|\b(?:what|how|why)\b|"
    r"(?:要|能|可以|会|该|够|行|得|有|用|是)[\u4e00-\u9fff\s]{0,16}(?:不|没得|没有|嘞|没)\s*$"
)
_SMALLTALK_WORD = (
    r"(?:你好|您好|老师好|嗨|哈喽|hello|hi|在吗|在不在|有人吗|谢谢(?:老师|你|您|了)?|多谢|感谢|谢啦|"
    r"哈哈+|嘿嘿|呵呵|早上好|中午好|下午好|晚上好|早安|晚安|拜拜|再见|好的|好|嗯+|哦+|噢+|ok|OK|收到|"
    r"辛苦了|辛苦老师了|莫得事|没事|谢了|拜拜了|下回再聊|吃饭没得|吃了没|你叫啥名字|👍|"
    r"你是谁|你是机器人吗|你是真人吗|你叫什么|厉害|不错|牛|棒|巴适|安逸|晓得了|知道了|明白了|"
    r"懂了|要得|可以|行|没问题|啊|呀|哈|嘛|哦)"
)
_SMALLTALK = re.compile(
    rf"^\s*{_SMALLTALK_WORD}(?:[！!。.~～，,？?、\s]*{_SMALLTALK_WORD})*[！!。.~～，,？?\s]*$"
)


_STRONG_NEED = re.compile(
    r"请.{0,4}专家|找.{0,6}专家|想请|求助|想找|帮我找|(?:需要|急需|求).{0,3}(?:兽医|技术员|师傅|专家|老师)|"
    r"缺.{0,3}(?:懂|会)|安排.{0,3}(?:个|人|兽医|专家)|帮忙找"
)


@dataclass(frozen=True, slots=True)
class Parse:
    intent: Intent
    slots: Slots
    text: str  # as the person wrote it (the question log keeps this)
    command: OrderCommand | None = None  # the order command, for Intent.ORDER
    clean: str = ""  # simplified, half-width, domain typos corrected (default: the text)

    def __post_init__(self) -> None:
        if not self.clean:
            object.__setattr__(self, "clean", self.text)


def classify(text: str, slots: Slots) -> Intent:
    t = text.strip()
    if not t:
        return Intent.OTHER
    if _STATS.search(t):
        return Intent.STATS
    if _UNSUBSCRIBE.search(t):
        return Intent.UNSUBSCRIBE
    if _PROFILE.search(t):
        return Intent.PROFILE
    if is_order_text(t):
        return Intent.ORDER
    if _HELP.search(t):
        return Intent.HELP
    if _SMALLTALK.match(t):
        return Intent.SMALLTALK
    need = bool(_NEED.search(t))
    # "可以上门不" asks for a visit; only statements offer one
    capability = bool(_CAPABILITY.search(t)) and not re.search(r"上门\s*(?:不|吗|没)", t)
    if capability and not (need and _STRONG_NEED.search(t)):
        return Intent.CAPABILITY
    if _SUBSCRIBE.search(t) and not need:
        return Intent.SUBSCRIBE
    if need:
        return Intent.NEED
    problem = bool(slots.crop or slots.pests or slots.category)
    if problem and slots.phone:
        return Intent.NEED  # a problem plus a number to call back: they want a person
    if _QUESTION.search(t):
        return Intent.QUESTION
    if slots.crop or slots.pests or slots.category:
        # a bare problem description: answered from the knowledge base and offered as a need
        return Intent.QUESTION
    if slots.fields and (slots.places or slots.title or slots.organisation):
        return Intent.CAPABILITY
    return Intent.OTHER


def understand(text: str) -> Parse:
    """Intent and slots of one message (offline), read from its normalised form."""
    raw = text
    text = normalise(raw).text  # 請問 -> 请问, １３９ -> 139, 稻温病 -> 稻瘟病
    slots = extract(text)
    intent = classify(text, slots)
    if intent not in (Intent.NEED, Intent.QUESTION):
        slots.category = ""  # a problem category only belongs to a problem
    if intent in (Intent.CAPABILITY, Intent.SUBSCRIBE) and len(slots.crops) > 1:
        slots.crop = ""  # several crops: no single focus
    command = order_command(text) if intent == Intent.ORDER else None
    return Parse(intent, slots, raw, command, text)


# Sichuan ways of asking that the intent cues above do not need (好久 = how long / when)
_ASKS_TOO = re.compile(r"好久|啷个|哪阵|啥时候|几时|问一哈|问一下|请问|想问")


def is_question_shaped(text: str) -> bool:
    """The message asks something (a question word or mark), whatever else it says."""
    return bool(_QUESTION.search(text) or _ASKS_TOO.search(text))
