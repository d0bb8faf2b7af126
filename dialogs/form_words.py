"""The words that steer a form rather than fill it: confirm, cancel or give up, edit, skip,
correct, resume, hand off, and commands (never a slot value)."""

from __future__ import annotations

import re

from dialogs.nlu.commands import order_command

_CONFIRM_WORD = (
    r"(?:确认|确定|对|对的|对头|没错|是的|是|(?:没|莫)(?:得|有)?(?:问题|毛病)|可以了?|好的?|好了|要得|行了?|就这样|"
    r"发布|提交|发出去|发送|发|ok|OK|yes|confirm)"
)
# "确认", "是的 提交", "对的，发布吧": confirm words only
CONFIRM = re.compile(
    rf"^\s*{_CONFIRM_WORD}(?:[，,\s]*{_CONFIRM_WORD})*\s*(?:吧|嘛|了|哈)?\s*[。!！]?\s*$"
)
CONFIRM_LEAD = re.compile(rf"^\s*{_CONFIRM_WORD}[，,\s]+")
# "我自己解决了 不用专家来了", "不找了": the person no longer wants what the form is for
GIVE_UP = re.compile(
    r"自己解决了|已经解决了|问题解决了|自己弄好了|已经(?:弄|搞|整|医|治)?好了|不用(?:专家|麻烦|来)|不需要(?:专家|了)|"
    r"不找(?:专家|了)|不要专家|不用找了|不弄了|不搞了|不发了|不想(?:弄|发|找)了|"
    # "邻居帮我弄好了", "我在网上问到办法了": solved by someone or somewhere else
    r"(?:自己|邻居|隔壁|别人|朋友|亲戚|网上|村里|站上)\S{0,8}?"
    r"(?:解决|弄好|搞好|搞定|整好|治好|医好|处理好|问到办法|找到办法|查到办法)了(?=$|[\s，,。!！~])"
)
# "…了 但是还是不行": whatever came before, the problem is still there
_STILL = re.compile(r"但是?|可是|不过|还是不|没用|不行|没效果|又(?:犯|发)")
# "算了不订了", "我不要了", "先不弄了", "下次再说吧": the whole message is a way of stopping
_STOP_WORD = (
    r"(?:/cancel|cancel|算了|算球了?|算逑了?|罢了|(?:取消|撤销)(?:掉|了)?(?:这个|这条|我的)?(?:需求|求助)?|退出|没事了|"
    r"(?:下次|以后|改天|回头|过段时间|过两天)再说|"
    r"(?:先|暂时|还是|就)?不(?:想|要|用|消|打算|准备|需要)?再?"
    r"(?:订|订阅|要|用|需要|找|弄|搞|发|登记|注册|报|问|做|干|整|申请|发布|提交|继续|麻烦)?"
    r"(?:你们|你|您|大家|专家)?了)"
)
_STOP_LEAD = (
    r"(?:我|那|那就|那我|那我就|还是|就|这个就|那个就|哎|唉|嗯|呃|哦)?"
    # "那条需求不要了", "这个求助就不用了": what is stopped, named
    r"(?:(?:那|这)(?:条|个)?(?:需求|求助|单子)(?:就|也)?)?"
)
CANCEL = re.compile(
    rf"^\s*{_STOP_LEAD}\s*{_STOP_WORD}(?:[，,。.\s]*{_STOP_LEAD}\s*{_STOP_WORD})*"
    r"\s*[吧嘛哈啦呀啊哦]*\s*[。.!！~]*\s*$"
)


# "我不想当专家了", "注销专家身份", "以后不接单了": stepping down as an expert
QUITS_EXPERT = re.compile(
    r"不(?:想|要|再|愿意?|打算)?再?(?:当|做|作|干)(?:这个)?专家了?|"
    r"(?:退出|注销|撤销|取消|撤回)(?:我的)?专家(?:登记|注册|身份|资格|账号)?|"
    r"(?:以后|今后)?不(?:想|再)?接单了"
)


_CLAUSE = re.compile(r"[\s，,。.!！?？~；;]+")
# a clause that still asks for the service ("算了 我想找个专家来看看") or changes what it asks
# ("改成五千嘛"); a clause telling what someone already did ("邻居家请的技术员帮我看了") asks
# for nothing
_WANTS = re.compile(
    r"想|要|需要|找|(?:^|我|想|要|再)请(?!了)|帮我(?!\S*了$)|麻烦|继续|还是发|\d|改成|改为|换成|"
    r"[加提涨调]到"
)


def cancels(text: str) -> bool:
    """Whether *text* stops what is in progress: a stop phrase alone ("算了不订了"), giving
    up on what the form is for ("我自己解决了 不用专家来了", "邻居帮我弄好了"), or a stop
    phrase among clauses that ask for nothing ("算了 不要了 我去问隔壁老王")."""
    if CANCEL.match(text) or QUITS_EXPERT.search(text):
        return True
    if GIVE_UP.search(text) and not _STILL.search(text):
        return True
    clauses = [c for c in _CLAUSE.split(text) if c]
    stops = [c for c in clauses if CANCEL.match(c)]
    if not stops or len(clauses) < 2:
        return False
    rest = [c for c in clauses if c not in stops]
    return len(stops) >= 2 or not any(_WANTS.search(c) for c in rest)


EDIT = re.compile(r"^\s*(?:修改|改一下|我要改|edit)\s*$")
SKIP = re.compile(
    r"^\s*(?:跳过|不填|没有|没得|莫得|无|不知道|不晓得|不清楚|暂时没有|skip|pass)\s*[。!！]?\s*$"
)
# "好多钱嘛要", "预算是啥意思" at the budget question: what the budget is, asked back
ASKS_BUDGET = re.compile(r"好多钱|多少钱|几多钱|啥意思|什么意思|是啥|是什么|给哪个|给谁|收费|要钱")
HANDOFF = re.compile(r"转人工|人工客服|找人工|直接找专家|别问了|直接发布|快点派人")
CORRECTION = re.compile(
    r"^\s*(?:不对|不是|错了|改成|改为|应该是|更正)|^.{0,8}?(?:不对|错了|写错|打错|说错|搞错|弄错|填错)了?"
    r"|^.{0,6}?(?:改成|改为|换成|应该是|应该为)"
    # "哦 不是花椒 是樱桃树": the old value denied, then the new one
    r"|^.{0,4}?不是\S{1,10}?[\s，,]*(?:是|而是)"
)
# "继续", "继续登记", "接着填吧": go on with the form (the open question is asked again)
RESUME = re.compile(
    r"^\s*(?:好的?|嗯|那|那就)?[，,\s]*(?:继续|接着)(?:来|填|登记|注册|发布|弄|搞|说)?"
    r"(?:刚才的?)?(?:登记|注册|需求|发布|表格?)?(?:吧|嘛|哈|了)?\s*[。!！~]?\s*$"
)


def is_control(text: str) -> bool:
    """A command or control word ("/needs", "确认", "接单 12"): never a slot value."""
    t = text.strip()
    if t.startswith("/") or CONFIRM.match(t) or EDIT.match(t) or SKIP.match(t) or RESUME.match(t):
        return True
    command = order_command(t)
    return command is not None and command.order_id is not None
