"""Reply texts in Simplified Chinese (default) and English."""

from __future__ import annotations

from typing import Any

ZH: dict[str, str] = {
    "welcome": (
        "您好，我是天府科技助手。\n"
        "· 遇到生产技术问题，直接说情况，比如“我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看”；\n"
        "· 想问科普知识，直接提问，比如“稻瘟病怎么防治？”；\n"
        "· 您是专家，可以说“我是农技站的，搞果树病虫害防治，泸州合江一带都能跑”来登记；\n"
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
    "ask_expert_phone": "请留一个联系电话，接单后会提供给需求方。",
    "ask_organisation": "您在哪个单位？（可说“跳过”）",
    "ask_title": "您的职称是？比如农艺师、兽医师。（可说“跳过”）",
    "ask_topics": "想订阅哪些方面的科普？比如“柑橘病虫害”“地震安全”。",
    "bad_phone": "“{value}”不像有效的电话号码。请输入 11 位手机号或带区号的座机，比如 0831-1234567。",
    "bad_region": "没找到“{value}”这个地方。请说省市区县，比如“宜宾翠屏区”。",
    "no_region": "没听出具体地点。请说区县或市，比如“宜宾翠屏区”“泸州合江”。",
    "ambiguous_region": "有几个地方都叫这个名字，您说的是哪一个？",
    "skip_required": "这一项必须填写，不能跳过。",
    "skipped": "好的，跳过。",
    "confirm_need": "请确认需求：\n{summary}\n确认后会发布并为您匹配专家。",
    "confirm_expert": "请确认登记信息：\n{summary}",
    "confirm_subscribe": "请确认订阅：{summary}",
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
    "btn_confirm": "确认",
    "btn_edit": "修改",
    "btn_cancel": "取消",
    "btn_skip": "跳过",
    "ok_no_expert": "好的，有需要随时找我。",
    "handoff_need_more": "好的，马上为您联系专家。还差{missing}，专家才能联系到您。",
    "updated": "已更新：{fields}。",
    "field_problem": "问题",
    "field_crop": "作物",
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
}

EN: dict[str, str] = {
    "welcome": (
        "Hello, I am the Tianfu science and technology assistant.\n"
        "· Describe a farming problem and I will answer and find experts;\n"
        "· Ask a science question and I will answer with sources;\n"
        "· Experts can register by describing their skills and service area;\n"
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
    "ask_expert_phone": "Please leave a phone number; requesters get it after you accept.",
    "ask_organisation": "Which organisation are you with? (or 'skip')",
    "ask_title": "Your professional title? (or 'skip')",
    "ask_topics": "Which topics would you like to follow?",
    "bad_phone": "'{value}' does not look like a valid phone number.",
    "bad_region": "I could not find the place '{value}'.",
    "no_region": "I did not catch a place. Please name a county or city.",
    "ambiguous_region": "Several places have this name. Which one do you mean?",
    "skip_required": "This item is required and cannot be skipped.",
    "skipped": "OK, skipped.",
    "confirm_need": "Please confirm your need:\n{summary}\nAfter confirming it is posted and matched to experts.",
    "confirm_expert": "Please confirm your registration:\n{summary}",
    "confirm_subscribe": "Please confirm: {summary}",
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
    "btn_confirm": "Confirm",
    "btn_edit": "Edit",
    "btn_cancel": "Cancel",
    "btn_skip": "Skip",
    "ok_no_expert": "OK. Ask me any time.",
    "handoff_need_more": "OK, connecting you with experts. I still need {missing} so they can reach you.",
    "updated": "Updated: {fields}.",
    "field_problem": "Problem",
    "field_crop": "Crop",
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
}

CATALOGUES = {"zh": ZH, "en": EN}


def t(key: str, locale: str = "zh", **kwargs: Any) -> str:
    """The text for *key* in *locale* (falls back to Chinese), formatted with *kwargs*."""
    table = CATALOGUES.get(locale, ZH)
    template = table.get(key) or ZH[key]
    return template.format(**kwargs) if kwargs else template
