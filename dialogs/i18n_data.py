"""Texts of /mydata and /delete_me (dialogs.mydata). Merged into
:mod:`dialogs.i18n`'s catalogues; imports nothing."""

from __future__ import annotations

# /mydata and /delete_me (dialogs.mydata)
DATA_ZH = {
    "mydata_head": "我们保存的关于您的全部信息如下（机器可读的完整记录另附 JSON 文件）：",
    "mydata_user": "· 称呼：{name}；电话：{phone}；地区：{region}；账号：{channel}；首次使用：{since}",
    "mydata_counts": "· 需求 {needs} 条；作为需求方的订单 {requested} 个；作为专家接的订单 {served} 个；提问 {questions} 条；评价 {feedback} 次；收到推送 {pushes} 次",
    "mydata_topics": "· 订阅：{topics}；兴趣画像：{interests}",
    "mydata_expert": "· 专家资料：已登记（单位、职称、领域、服务地区见 JSON）",
    "mydata_tail": "说“删除我的数据”可以删除这些个人信息。",
    "delete_me_ask": "确定要删除您的个人信息吗？将删除：称呼、电话、账号标识、提问内容、评价、订阅、兴趣画像、专家资料和对话记录；需求和订单只保留地区、作物、类别、时间、状态和评分（不再关联到您），用于地区统计。删除后无法恢复。",
    "btn_delete_me": "确认删除",
    "btn_keep_me": "不删了",
    "delete_me_done": "已删除您的个人信息，无法恢复。以后再发消息，我们会把您当作新用户。",
    "delete_me_kept": "好的，您的信息保持不变。",
}
DATA_EN = {
    "mydata_head": "Everything we store about you (the full machine-readable record follows as a JSON file):",
    "mydata_user": "· Name: {name}; phone: {phone}; region: {region}; account: {channel}; first use: {since}",
    "mydata_counts": "· {needs} needs; {requested} orders as requester; {served} orders as expert; {questions} questions; {feedback} votes; {pushes} pushes received",
    "mydata_topics": "· Subscriptions: {topics}; interest profile: {interests}",
    "mydata_expert": "· Expert profile: registered (organisation, title, fields, service regions in the JSON)",
    "mydata_tail": 'Say "delete my data" to delete this personal data.',
    "delete_me_ask": "Delete your personal data? This removes your name, phone, account id, question texts, votes, subscriptions, interest profile, expert profile and conversation state; needs and orders keep only region, crop, category, times, status and rating (no longer linked to you) for regional statistics. This cannot be undone.",
    "btn_delete_me": "Delete",
    "btn_keep_me": "Keep my data",
    "delete_me_done": "Your personal data is deleted for good. If you write again you will be a new user.",
    "delete_me_kept": "OK, your data stays as it is.",
}
