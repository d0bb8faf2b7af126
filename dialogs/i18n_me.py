"""Texts about a person's own records: what is stored about them and how they change it
(the profile view and edits, subscriptions listed, a bare phone). Merged into
:mod:`dialogs.i18n`'s catalogues; imports nothing."""

from __future__ import annotations

ME_ZH: dict[str, str] = {
    "my_subscriptions": "您现在订阅了：{topics}。\n说“不要{first}的了”退订其中一项，说“全部退订”全部退订，说“再订 主题”增加。",
    "my_subscriptions_none": "您目前没有订阅科普推送。说“订阅 主题”即可订阅，比如“订阅 柑橘病虫害”。",
}
ME_EN: dict[str, str] = {
    "my_subscriptions": "You follow: {topics}.\nSay 'unsubscribe {first}' to drop one, 'unsubscribe all' to stop all, 'subscribe <topic>' to add.",
    "my_subscriptions_none": "You have no subscriptions. Say 'subscribe <topic>' to follow one.",
}
