"""Texts of channels (issue 16): /link, one person across channels, and the WeChat
Official Account's numbered choices. Merged into
:mod:`dialogs.i18n`'s catalogues; imports nothing."""

from __future__ import annotations

# --- /link: one person across channels (issue 16) ---
LINK_ZH: dict[str, str] = {
    "link_code": (
        "您的关联码：{code}（{minutes} 分钟内有效，只能用一次）。\n"
        "请在另一个渠道（网页、微信或 Telegram）里发送：/link {code}\n"
        "关联后两个渠道是同一个账号：需求、订单、专家资料和订阅都合在一起。"
    ),
    "link_done": "关联成功！两个渠道现在是同一个账号，之后的通知会发到您最近使用的渠道。",
    "link_done_other": "您的账号已与另一个渠道关联成功，两边现在是同一个账号。",
    "link_unknown": "关联码不对或已过期（有效期 {minutes} 分钟）。请在另一个渠道重新发送 /link 获取新码。",
    "link_same": "这两个渠道已经是同一个账号了，不用再关联。",
    "link_two_experts": "两个账号都登记了专家资料，不能自动合并。请先在其中一个渠道发送 /delete_me 删除多余的账号，或联系管理员。",
    "link_too_many": "关联码输错次数太多，请一小时后再试。",
    "link_usage": "用法：在一个渠道发 /link 获取 6 位关联码，再到另一个渠道发 /link 加这 6 位数字。",
}
LINK_EN: dict[str, str] = {
    "link_code": (
        "Your link code: {code} (valid for {minutes} minutes, once).\n"
        "On your other channel (web, WeChat or Telegram) send: /link {code}\n"
        "Both channels then are one account: needs, orders, expert profile and subscriptions together."
    ),
    "link_done": "Linked! Both channels are now one account; notices go to the channel you used last.",
    "link_done_other": "Your account was linked with another channel; both are now one account.",
    "link_unknown": "That code is wrong or expired (valid {minutes} minutes). Send /link on the other channel for a new one.",
    "link_same": "These two channels are already one account.",
    "link_two_experts": "Both accounts hold an expert profile and cannot be merged. Delete one with /delete_me first, or ask an administrator.",
    "link_too_many": "Too many wrong codes; please try again in an hour.",
    "link_usage": "Usage: send /link on one channel for a 6-digit code, then /link and the code on the other.",
}
# The WeChat Official Account channel (issue 16): buttons as numbered choices
WECHAT_ZH: dict[str, str] = {
    "wechat_choices": "回复数字：{choices}",
    "wechat_unsupported": "暂时只能看懂文字、图片和语音。请用文字描述您的问题，比如“辣椒叶子发黄怎么办”。",
}
WECHAT_EN: dict[str, str] = {
    "wechat_choices": "Reply with a number: {choices}",
    "wechat_unsupported": "I can read text, photos and voice messages only. Please describe your question in words.",
}
