"""Texts about a person's own records: what is stored about them and how they change it
(the profile view and edits, subscriptions listed, a bare phone). Merged into
:mod:`dialogs.i18n`'s catalogues; imports nothing."""

from __future__ import annotations

ME_ZH: dict[str, str] = {
    "my_subscriptions": "您现在订阅了：{topics}。\n说“不要{first}的了”退订其中一项，说“全部退订”全部退订，说“再订 主题”增加。",
    "my_subscriptions_none": "您目前没有订阅科普推送。说“订阅 主题”即可订阅，比如“订阅 柑橘病虫害”。",
    # 我的资料: what is stored about the person, and their edits of it (dialogs.records)
    "records_head": "您的资料：",
    "records_user": "· 称呼：{name}；电话：{phone}；地区：{region}",
    "records_expert_head": "专家资料（{status}）：",
    "records_verified": "已认证",
    "records_unverified": "未认证",
    "records_enterprise_head": "企业资料：",
    "records_line": "· {field}：{value}",
    "records_edit_hint": "要修改直接说，比如“服务地区加上蒲江县”“电话改成13900001111”“擅长再加一个猕猴桃”“职称改为高级农艺师”。",
    "records_edit_hint_plain": "要修改直接说，比如“电话改成13900001111”“地区改成宜宾翠屏区”。",
    "records_bad_phone": "“{value}”不是有效的手机或固定电话号码，请再说一遍，比如“电话改成13900001111”。",
    "records_bad_name": "没看懂要改成什么称呼（“{value}”），请说“称呼改成张建国”。",
    "records_bad_place": "没找到“{value}”这个地方，请说具体些，比如“服务地区加上成都市蒲江县”。",
    "records_not_there": "您的服务地区里没有“{value}”。说“我的资料”可以查看现在的服务地区。",
    "records_bad_value": "没看懂要改成什么（“{value}”），请再说具体些。",
    "records_phone_required": "专家资料需要联系电话，不能删除；可以说“电话改成…”换一个号码。",
    "records_fields_required": "专家资料至少要保留一个擅长领域；可以说“擅长改成…”换成别的。",
    "records_regions_required": "专家资料至少要保留一个服务地区；可以说“服务地区改成…”换成别的。",
    "records_refused": "这个修改没能保存（“{value}”），您的资料保持不变。请换个说法再试。",
    # contacts not exchanged: the expert learns nothing of who the requester is
    "relay_who_requester_anonymous": "需求方",
    "no_consent_requester": "好的，不交换联系方式，专家看不到您的称呼和电话。可以继续通过平台和专家沟通：直接回复专家的消息，或说“回复 {id} 内容”；不合适也可以说“换一位”。",
    "no_consent_expert": "需求 #{id}：需求方暂时不交换联系方式，请继续通过平台沟通（说“回复 {id} 内容”）。",
    # 不合适 N: the requester turns down a suggested expert
    "reject_which": "为需求 #{id} 通知了 {n} 位专家，哪位不合适？请说“不合适 序号”，比如“不合适 1”。",
    "reject_no_such": "需求 #{id} 只通知了 {n} 位专家，没有第 {number} 位。请说“不合适 序号”，序号见专家名单。",
    "rejected_expert": "好的，不再请{name}接需求 #{id}，其他专家仍可接单。",
    "rejected_all": "好的，不再请{name}接需求 #{id}。通知过的专家都不合适，我们会扩大范围继续为您匹配。",
    "expert_unnamed": "这位专家",
}
ME_EN: dict[str, str] = {
    "my_subscriptions": "You follow: {topics}.\nSay 'unsubscribe {first}' to drop one, 'unsubscribe all' to stop all, 'subscribe <topic>' to add.",
    "my_subscriptions_none": "You have no subscriptions. Say 'subscribe <topic>' to follow one.",
    "records_head": "Your records:",
    "records_user": "· Name: {name}; phone: {phone}; place: {region}",
    "records_expert_head": "Expert profile ({status}):",
    "records_verified": "verified",
    "records_unverified": "not verified",
    "records_enterprise_head": "Enterprise:",
    "records_line": "· {field}: {value}",
    "records_edit_hint": "To change something just say so, e.g. '服务地区加上蒲江县', '电话改成13900001111', '擅长再加一个猕猴桃'.",
    "records_edit_hint_plain": "To change something just say so, e.g. '电话改成13900001111'.",
    "records_bad_phone": "'{value}' is not a valid phone number; say e.g. '电话改成13900001111'.",
    "records_bad_name": "What name should it be ('{value}')? Say e.g. '称呼改成张建国'.",
    "records_bad_place": "No place called '{value}' was found; please be more specific.",
    "records_not_there": "'{value}' is not among your service areas.",
    "records_bad_value": "What should it be changed to ('{value}')? Please be more specific.",
    "records_phone_required": "An expert profile needs a phone; say '电话改成…' to change it.",
    "records_fields_required": "An expert profile needs at least one field.",
    "records_regions_required": "An expert profile needs at least one service area.",
    "records_refused": "That change ('{value}') could not be saved; your records stay as they were.",
    "relay_who_requester_anonymous": "the requester",
    "no_consent_requester": "OK, no contacts are exchanged; the expert sees neither your name nor your phone. Keep talking here: reply to the expert's message or say 'reply {id} text'; or say '换一位' for another expert.",
    "no_consent_expert": "Need #{id}: the requester prefers not to exchange contacts for now; please keep talking here ('reply {id} text').",
    "reject_which": "{n} experts were told of need #{id}; which one does not suit you? Say '不合适 N', e.g. '不合适 1'.",
    "reject_no_such": "Only {n} experts were told of need #{id}; there is no number {number}.",
    "rejected_expert": "OK, {name} will not be asked to take need #{id}; the others still may.",
    "rejected_all": "OK, {name} will not be asked to take need #{id}. None of those told suits you: we will keep matching more widely.",
    "expert_unnamed": "this expert",
}
