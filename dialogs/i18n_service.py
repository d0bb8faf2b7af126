"""Texts about the assistant and the platform themselves (who answers, how to reach a person,
complaints, what it costs, what a budget means) and where to turn when an answer is about
health or an emergency. Merged into :mod:`dialogs.i18n`'s catalogues; imports nothing."""

from __future__ import annotations

SERVICE_ZH: dict[str, str] = {
    # {reach}: service_reach_contact with the platform's contact, else service_reach_admin
    "service_reach_contact": "平台联系方式：{contact}",
    "service_reach_admin": "需要找人，可以联系平台管理员",
    "service_who": "我是天府科技云的智能助手（自动回复程序），不是真人。我能回答生产技术和科普问题，帮您发需求、找专家；专家接单后由真人专家为您服务。{reach}。",
    "service_human": "我是智能助手，这里没有真人客服在线。{reach}。\n要请真人专家帮忙，直接说遇到的问题，比如“柑橘叶子发黄，想请专家看看”，发布需求后专家会接单。",
    "service_complain": "要投诉接单的专家，请说“投诉 需求编号 原因”，比如“投诉 12 专家没有上门”，管理员会核实处理；说“我的需求”可以查看需求编号。您目前没有专家接过单的需求。{reach}。",
    "service_cost": "平台不收费：提问、发布需求、匹配专家都是免费的。预算是您和专家之间商量的服务费用，平台不经手、不抽成；没有预算也可以说“跳过”。",
    "service_budget": "预算是您愿意付给专家的大概服务费用（比如上门指导、检测的费用），平台不收费，具体由您和专家商量。不确定可以说“跳过”。",
    # after an answer about health or an emergency: the platform's experts are agricultural
    "care_health": "身体不舒服请及时到医院看医生；情况紧急请拨打120。",
    "care_emergency": "遇到险情先保证人身安全：火灾、被困拨打119，受伤拨打120，报警拨打110。",
}

SERVICE_EN: dict[str, str] = {
    "service_reach_contact": "Platform contact: {contact}",
    "service_reach_admin": "To reach a person, contact the platform administrator",
    "service_who": "I am the Tianfu platform's assistant (an automatic program), not a person. I answer farming and science questions, post needs and find experts; once an expert accepts, a real expert helps you. {reach}.",
    "service_human": "I am an assistant; no person is on this chat. {reach}.\nFor a real expert, describe the problem and post it as a need; an expert will accept it.",
    "service_complain": "To complain about the expert on a need, say 'complain <need number> <reason>', e.g. '投诉 12 专家没有上门'; an administrator checks it. 'my needs' shows the numbers. None of your needs has had an expert yet. {reach}.",
    "service_cost": "The platform is free: asking, posting needs and matching experts cost nothing. A budget is what you and the expert agree for the service; the platform takes no part of it. Say 'skip' if you have none.",
    "service_budget": "The budget is roughly what you would pay the expert for the service (a visit, a test); the platform charges nothing and you agree the amount with the expert. Say 'skip' if unsure.",
    "care_health": "If you feel unwell, see a doctor; in an emergency call 120.",
    "care_emergency": "Stay safe first: call 119 for fire or rescue, 120 for injuries, 110 for the police.",
}
