"""Reply texts in Simplified Chinese (default) and English: the general ones here, each
area's in its own module (dialogs.i18n_orders, i18n_ent …), merged into one catalogue."""

from __future__ import annotations

from typing import Any

from dialogs.i18n_channels import LINK_EN, LINK_ZH, WECHAT_EN, WECHAT_ZH
from dialogs.i18n_data import DATA_EN, DATA_ZH
from dialogs.i18n_ent import ENT_EN, ENT_ZH
from dialogs.i18n_kb import KB_EN, KB_ZH
from dialogs.i18n_me import ME_EN, ME_ZH
from dialogs.i18n_media import MEDIA_EN, MEDIA_ZH
from dialogs.i18n_orders import ORDER_EN, ORDER_ZH
from dialogs.i18n_push import PUSH_EN, PUSH_ZH
from dialogs.i18n_service import SERVICE_EN, SERVICE_ZH
from dialogs.i18n_stats import STATS_EN, STATS_ZH
from dialogs.i18n_trust import TRUST_EN, TRUST_ZH

ZH: dict[str, str] = {
    "welcome": (
        "您好，我是天府科技助手。\n"
        "· 遇到生产技术问题，直接说情况，比如“我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看”；\n"
        "· 想问科普知识，直接提问，比如“稻瘟病怎么防治？”；\n"
        "· 您是专家，可以说“我是农技站的，搞果树病虫害防治，泸州合江一带都能跑”来登记；\n"
        "· 企业可以直接说技术需求（如“我们公司泡菜发酵工艺不稳定，想找专家改进，预算10万”），"
        "或问“有没有柑橘保鲜的成果可以转让”；专家可以登记成果、组建团队、说“找项目”；\n"
        "· 说“订阅 柑橘病虫害”可以定期收到科普推送。随时说“帮助”查看用法。"
    ),
    "help_form": "我们正在{form}。您可以直接回答，也可以说“跳过”（可选项）、“不对，是……”（更正）或“算了”（取消）。",
    "empty": "没有收到文字内容。请用文字描述您的问题，比如“辣椒叶子发黄怎么办”。",
    "too_long": "消息太长了（{n} 字）。请精简到 {limit} 字以内，说清作物、问题、地点就行。",
    "no_text": "我暂时只能看懂文字。请用文字描述您的问题。",
    "smalltalk_hello": "您好！有什么生产技术问题或科普问题，直接告诉我就行。",
    "smalltalk_thanks": "不客气！还有问题随时问我。",
    "smalltalk_other": "好的。有生产技术或科普方面的问题，随时告诉我。",
    "other": "这个我帮不上忙。我能回答农业技术和科普问题、帮您找专家，或帮专家登记接单。说“帮助”看看用法。",
    "start_need": "我遇到技术问题，要找专家",
    "start_expert": "我是专家，登记接单",
    "start_citizen": "我想问科普问题",
    "start_citizen_hint": "请直接提问，比如“发芽的土豆能吃吗？”“地震时在屋里怎么躲？”。",
    "form_need": "发布需求",
    "form_expert": "专家登记",
    "form_subscribe": "订阅科普推送",
    "ask_problem": "请简单描述一下遇到的问题，比如作物、症状和发生范围。",
    "ask_crop": "是哪种作物或养殖品种？（不涉及可以说“跳过”）",
    "ask_region": "请问在哪个地方？说到区县最好，比如“宜宾翠屏区”或“泸州合江”。",
    "ask_phone": "请留一个联系电话（手机或座机），专家接单后才会看到。",
    "ask_budget": "有大概的预算吗？比如“五千左右”。没有可以说“跳过”。",
    "ask_fields": "您擅长哪些领域或技术？比如“果树栽培、病虫害防治”。",
    "ask_service_regions": "您能服务哪些地方？可以说多个，比如“泸州合江、宜宾翠屏”。",
    "ask_name": "请问怎么称呼您？",
    "ask_expert_phone": "请留一个联系电话，接单后经需求方同意会提供给对方。",
    "ask_organisation": "您在哪个单位？（可说“跳过”）",
    "ask_title": "您的职称是？比如农艺师、兽医师。（可说“跳过”）",
    "ask_topics": "想订阅哪些方面的科普？比如“柑橘病虫害”“地震安全”。",
    "bad_phone": "“{value}”不像有效的电话号码。请输入 11 位手机号或带区号的座机，比如 0831-1234567。",
    "bad_region": "没找到“{value}”这个地方。请说省市区县，比如“宜宾翠屏区”。",
    "no_region": "没听出具体地点。请说区县或市，比如“宜宾翠屏区”“泸州合江”。",
    "ambiguous_region": "有几个地方都叫这个名字，您说的是哪一个？",
    "skip_required": "这一项必须填写，不能跳过。",
    "confirm_at_summary": "还没到确认这一步：先看清楚汇总，再确认。",
    "confirmed_early": "好的，其余选填项不填，按以下信息提交：\n{summary}",
    "skipped": "好的，跳过。",
    "confirm_need": "请确认需求：\n{summary}\n确认后会发布并为您匹配专家。",
    "confirm_expert": "请确认登记信息：\n{summary}",
    "confirm_subscribe": "已订阅：{summary}。还想加减直接说（比如“再加个养鸡的”“只要猪”），说“算了”就撤销。",
    "edit_prompt": "请直接告诉我要改的内容，比如“地点是泸州合江”或“电话 13800001234”。",
    "cancelled": "好的，已取消，刚才填的内容不会保存。有需要再找我。",
    "nothing_to_cancel": "现在没有进行中的事项。",
    "need_posted": "需求已发布（编号 {id}）。我们正在为您匹配专家，有专家接单会马上通知您。",
    "expert_saved": "登记成功！您擅长：{fields}；服务地区：{regions}。有匹配的需求会通知您，也可以说“找项目”浏览。",
    "subscribed": "订阅成功：{topics}。有合适的科普文章会推送给您，说“退订”可随时取消。",
    "resume": "我们继续{form}：{question}",
    "understood": "好的，已记下：\n{summary}",
    "offer_expert": "要我帮您找专家吗？",
    "btn_find_expert": "找专家",
    "btn_no_thanks": "不用了",
    "need_or_question": "您是想请专家上门帮忙，还是先问个问题？",
    "btn_want_expert": "请专家上门帮忙",
    "btn_want_answer": "先问个问题",
    "btn_confirm": "确认",
    "btn_edit": "修改",
    "btn_cancel": "取消",
    "btn_undo": "撤销",
    "btn_skip": "跳过",
    "ok_no_expert": "好的，有需要随时找我。",
    "on_it": "好的，正在为您找专家，先把下面这项补上：",
    "handoff_need_more": "好的，马上为您联系专家。还差{missing}，专家才能联系到您。",
    "updated": "已更新：{fields}。",
    "changed_to": "已改为：{values}。",
    "noted_other": "好的，已记下：{values}。",
    "subscription_undone": "好的，这次的订阅已撤销。有需要再找我。",
    "dropped_slots": "好的，{fields}不填。",
    "form_dropped": "刚才的{form}先放一放，没有保存。需要时再跟我说。",
    "field_problem": "问题",
    "field_crop": "作物",
    "field_crops": "作物",
    # the crop slot's word when it names animals (猪, 鱼, 蜜蜂), edible fungi, or both kinds
    "field_crop_animal": "养殖对象",
    "field_crop_fungus": "食用菌",
    "field_crop_mixed": "作物/养殖",
    "field_crops_animal": "养殖对象",
    "field_crops_fungus": "食用菌",
    "field_crops_mixed": "作物/养殖",
    "field_region": "地点",
    "field_phone": "电话",
    "field_budget": "预算",
    "field_urgency": "紧急程度",
    "field_fields": "擅长领域",
    "field_service_regions": "服务地区",
    "field_name": "称呼",
    "field_organisation": "单位",
    "field_title": "职称",
    "field_topics": "订阅内容",
    "urgent": "紧急",
    "yuan": "{n} 元",
    "error": "抱歉，处理您的消息时出了点问题，请再说一次。",
    "private_data": "其他用户的电话和个人信息受保护，我不能提供。专家接单并经需求方同意后，双方才能看到彼此的联系方式，在此之前双方通过平台转达消息。有技术问题可以直接问我。",
}

EN: dict[str, str] = {
    "welcome": (
        "Hello, I am the Tianfu science and technology assistant.\n"
        "· Describe a farming problem and I will answer and find experts;\n"
        "· Ask a science question and I will answer with sources;\n"
        "· Experts can register by describing their skills and service area;\n"
        "· Enterprises post technical needs and find achievements; experts register "
        "achievements, form teams and browse projects;\n"
        "· Say 'subscribe citrus pests' to get articles. Say 'help' any time."
    ),
    "help_form": "We are {form}. Answer the question, or say 'skip' (optional items), 'no, it is ...' to correct, or 'cancel'.",
    "empty": "I received no text. Please describe your question in words.",
    "too_long": "Your message is too long ({n} characters). Please keep it under {limit}.",
    "no_text": "I can only read text for now. Please describe your question in words.",
    "smalltalk_hello": "Hello! Tell me any farming or science question.",
    "smalltalk_thanks": "You are welcome! Ask me any time.",
    "smalltalk_other": "OK. Tell me any farming or science question.",
    "other": "I cannot help with that. I answer farming and science questions, find experts and register experts. Say 'help'.",
    "start_need": "I have a problem and need an expert",
    "start_expert": "I am an expert and take jobs",
    "start_citizen": "I have a science question",
    "start_citizen_hint": "Just ask, e.g. 'Can sprouted potatoes be eaten?'",
    "form_need": "posting a need",
    "form_expert": "registering as an expert",
    "form_subscribe": "subscribing",
    "ask_problem": "Please describe the problem briefly: crop, symptoms, extent.",
    "ask_crop": "Which crop or animal is it? (say 'skip' if none)",
    "ask_region": "Where is it? A county is best, e.g. 'Cuiping, Yibin'.",
    "ask_phone": "Please leave a phone number; experts see it only after accepting.",
    "ask_budget": "Do you have a budget, e.g. 5000? Say 'skip' if not.",
    "ask_fields": "Which fields or techniques are you good at?",
    "ask_service_regions": "Which places can you serve? You may name several.",
    "ask_name": "How should we call you?",
    "ask_expert_phone": "Please leave a phone number; requesters get it after you accept and they agree.",
    "ask_organisation": "Which organisation are you with? (or 'skip')",
    "ask_title": "Your professional title? (or 'skip')",
    "ask_topics": "Which topics would you like to follow?",
    "bad_phone": "'{value}' does not look like a valid phone number.",
    "bad_region": "I could not find the place '{value}'.",
    "no_region": "I did not catch a place. Please name a county or city.",
    "ambiguous_region": "Several places have this name. Which one do you mean?",
    "skip_required": "This item is required and cannot be skipped.",
    "confirm_at_summary": "Not yet: please check the summary first, then confirm.",
    "confirmed_early": "OK, the optional questions are left blank; submitting:\n{summary}",
    "skipped": "OK, skipped.",
    "confirm_need": "Please confirm your need:\n{summary}\nAfter confirming it is posted and matched to experts.",
    "confirm_expert": "Please confirm your registration:\n{summary}",
    "confirm_subscribe": "Subscribed: {summary}. Say what to add or drop, or 'cancel' to undo.",
    "edit_prompt": "Tell me what to change, e.g. 'place: Hejiang, Luzhou'.",
    "cancelled": "OK, cancelled; nothing was saved.",
    "nothing_to_cancel": "There is nothing in progress.",
    "need_posted": "Your need is posted (no. {id}). We are matching experts and will tell you when one accepts.",
    "expert_saved": "Registered! Fields: {fields}; service area: {regions}.",
    "subscribed": "Subscribed: {topics}. Say 'unsubscribe' to stop.",
    "resume": "Let us continue {form}: {question}",
    "understood": "Noted:\n{summary}",
    "offer_expert": "Shall I find an expert for you?",
    "btn_find_expert": "Find an expert",
    "btn_no_thanks": "No, thanks",
    "need_or_question": "Would you like an expert to come and help, or to ask a question first?",
    "btn_want_expert": "An expert, please",
    "btn_want_answer": "Just a question",
    "btn_confirm": "Confirm",
    "btn_edit": "Edit",
    "btn_cancel": "Cancel",
    "btn_undo": "Undo",
    "btn_skip": "Skip",
    "ok_no_expert": "OK. Ask me any time.",
    "on_it": "Sure, we are finding you an expert. Just this first:",
    "handoff_need_more": "OK, connecting you with experts. I still need {missing} so they can reach you.",
    "updated": "Updated: {fields}.",
    "changed_to": "Changed to: {values}.",
    "noted_other": "Noted: {values}.",
    "subscription_undone": "OK, that subscription is undone.",
    "dropped_slots": "OK, no {fields}.",
    "form_dropped": "I have put {form} aside; nothing was saved. Tell me when you want to go on.",
    "field_problem": "Problem",
    "field_crop": "Crop",
    "field_crops": "Crops",
    "field_crop_animal": "Animal",
    "field_crop_fungus": "Mushroom",
    "field_crop_mixed": "Crop or animal",
    "field_crops_animal": "Animals",
    "field_crops_fungus": "Mushrooms",
    "field_crops_mixed": "Crops and animals",
    "field_region": "Place",
    "field_phone": "Phone",
    "field_budget": "Budget",
    "field_urgency": "Urgency",
    "field_fields": "Fields",
    "field_service_regions": "Service area",
    "field_name": "Name",
    "field_organisation": "Organisation",
    "field_title": "Title",
    "field_topics": "Topics",
    "urgent": "urgent",
    "yuan": "{n} yuan",
    "error": "Sorry, something went wrong. Please say it again.",
    "private_data": "Other users' phone numbers and personal details are protected and I cannot share them. Contacts are shown to both sides only after an expert accepts and the requester agrees; until then messages are relayed. Ask me any technical question.",
}

CATALOGUES = {"zh": ZH, "en": EN}


def _merge(catalogue: dict[str, str], part: dict[str, str]) -> None:
    """Add one area's texts; a key already defined elsewhere is an error (two areas sharing a
    key silently showed one area's template with the other's arguments: a KeyError at run
    time)."""
    clash = sorted(set(catalogue) & set(part))
    if clash:
        msg = f"i18n keys defined twice: {', '.join(clash)}"
        raise ValueError(msg)
    catalogue.update(part)


def t(key: str, locale: str = "zh", **kwargs: Any) -> str:
    """The text for *key* in *locale* (falls back to Chinese), formatted with *kwargs*."""
    table = CATALOGUES.get(locale, ZH)
    template = table.get(key) or ZH[key]
    return template.format(**kwargs) if kwargs else template


# each area's texts live in its own module (dialogs.i18n_*): merged here, a key twice refused
_merge(ZH, ORDER_ZH)
_merge(EN, ORDER_EN)
_merge(ZH, STATS_ZH)
_merge(EN, STATS_EN)
_merge(ZH, PUSH_ZH)
_merge(EN, PUSH_EN)
_merge(ZH, DATA_ZH)
_merge(EN, DATA_EN)
_merge(ZH, TRUST_ZH)
_merge(EN, TRUST_EN)
_merge(ZH, ENT_ZH)
_merge(EN, ENT_EN)
_merge(ZH, MEDIA_ZH)
_merge(EN, MEDIA_EN)
_merge(ZH, LINK_ZH)
_merge(EN, LINK_EN)
_merge(ZH, WECHAT_ZH)
_merge(EN, WECHAT_EN)
_merge(ZH, KB_ZH)
_merge(EN, KB_EN)
_merge(ZH, ME_ZH)
_merge(EN, ME_EN)
_merge(ZH, SERVICE_ZH)
_merge(EN, SERVICE_EN)
