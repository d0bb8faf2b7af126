"""Personal data out of texts that become knowledge (imported Q&A, curated expert cases).

Phones go through the one phone module (``store.phone.mask``); names are masked where a
text labels them (联系人：张建国 -> 联系人：张某某) or a speaker introduces themself (我叫王五);
chat-app ids (微信 abc123) are removed.
"""

from __future__ import annotations

import re

from store import phone

_NAME_AFTER = re.compile(
    r"((?:联系人|姓名|名字|户主|农户|咨询人|提问人|报告人|来电人|负责人|我叫)\s*[:：]?\s*)"
    r"([\u4e00-\u9fff]{2,3}?)(?=[，,。；;\s（(]|电话|手机|$)"
)
_SOCIAL = re.compile(r"(?:微信|vx|wx|qq)\s*(?:号)?\s*[:：]?\s*[A-Za-z0-9_-]{5,20}", re.IGNORECASE)


def mask_personal(text: str) -> str:
    """Phones, labelled names and chat-app ids masked (张建国 -> 张某某)."""
    text = phone.mask(text)
    text = _NAME_AFTER.sub(lambda m: f"{m.group(1)}{m.group(2)[0]}某某", text)
    return _SOCIAL.sub("[联系方式已隐去]", text)
