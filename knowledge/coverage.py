"""The coverage map: which subjects x problem kinds the articles cover, and which are empty.

Rows are Sichuan and Chongqing's main crops, livestock and aquatic species; columns the
problem kinds (disease, pest, nutrition, cultivation, storage, market quality). A second map
covers the science topics citizens ask most. An article fills a cell through its crops (or,
for citizen topics, the words of its title and tags) and its category and title. Articles
older than the configured age are listed as stale. Planning new articles starts from the
empty cells, not at random.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from knowledge.loader import Article

KINDS = ("disease", "pest", "nutrition", "cultivation", "storage", "market")
KIND_LABELS = {
    "disease": "病害",
    "pest": "虫害",
    "nutrition": "营养",
    "cultivation": "栽培管理",
    "storage": "贮藏加工",
    "market": "品质市场",
}
# subject -> the crops of the lexicon that count for it
SUBJECTS: dict[str, tuple[str, ...]] = {
    # grain and oil
    "水稻": ("水稻",),
    "小麦": ("小麦",),
    "玉米": ("玉米",),
    "油菜": ("油菜",),
    "马铃薯": ("马铃薯",),
    "红薯": ("红薯",),
    "大豆": ("大豆",),
    # fruit
    "柑橘": ("柑橘", "柠檬"),
    "李": ("李",),
    "桃": ("桃",),
    "梨": ("梨",),
    "猕猴桃": ("猕猴桃",),
    "葡萄": ("葡萄",),
    # cash crops
    "茶": ("茶",),
    "花椒": ("花椒",),
    "中药材": ("天麻", "川芎", "黄连", "附子", "重楼", "川贝母", "白芷", "麦冬", "厚朴"),
    # vegetables and fungi
    "辣椒": ("辣椒",),
    "番茄": ("番茄",),
    "叶菜": ("白菜", "甘蓝", "莴笋", "菠菜", "萝卜"),
    "榨菜": ("榨菜", "儿菜", "芥菜"),
    "食用菌": ("香菇", "平菇", "羊肚菌", "木耳", "银耳", "竹荪"),
    # livestock
    "猪": ("猪",),
    "牛": ("牛",),
    "羊": ("羊",),
    "鸡": ("鸡",),
    "鸭鹅": ("鸭", "鹅"),
    "兔": ("兔",),
    "蜜蜂": ("蜜蜂",),
    # aquatic
    "鱼": ("鱼",),
    "小龙虾": ("小龙虾",),
    "特种水产": ("泥鳅", "黄鳝", "大鲵", "甲鱼", "牛蛙"),
}
ANIMALS = frozenset({"猪", "牛", "羊", "鸡", "鸭鹅", "兔", "蜜蜂", "鱼", "小龙虾", "特种水产"})
# title or tag words that move an article to another kind than its category says
_KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("market", ("品质", "分级", "等级", "收购", "上市", "销售", "市场", "价格", "品牌", "认证")),
    ("storage", ("贮藏", "储藏", "储存", "保鲜", "晾晒", "烘干", "干燥", "采收", "加工", "腊肉")),
    ("nutrition", ("施肥", "肥料", "缺素", "缺钾", "缺硼", "营养", "饲料", "配方", "追肥")),
    ("pest", ("虫", "螨", "寄生", "驱虫")),
)
_DISEASE_WORDS = ("病", "疫", "瘟", "炎", "症", "中毒")
CATEGORY_KIND = {
    "disease": "disease",
    "pest": "pest",
    "soil": "nutrition",
    "cultivation": "cultivation",
    "processing": "storage",
    "livestock": "cultivation",
    "policy": "market",
}
# citizen topics: topic -> subtopic -> words of a title or tag that place an article there
CITIZEN: dict[str, dict[str, tuple[str, ...]]] = {
    "健康饮食": {
        "慢病饮食": ("高血压", "糖尿病", "血糖", "痛风", "减盐", "体重", "BMI", "骨质疏松"),
        "传染病": ("流感", "疫苗", "肝", "结核", "艾滋", "手足口", "诺如", "狂犬", "支原体"),
        "急救": ("急救", "心肺复苏", "海姆立克", "中风", "心梗", "烫伤", "骨折", "蛇"),
        "儿童与老人": ("孩子", "宝宝", "老人", "辅食", "近视", "跌倒", "痴呆"),
    },
    "食品安全": {
        "农残与添加剂": ("农药残留", "添加剂", "味精", "催熟", "膨大剂", "转基因"),
        "食物中毒": ("中毒", "毒蘑菇", "野生菌", "米酵菌酸", "黄曲霉", "四季豆", "发芽"),
        "储存与标签": ("冰箱", "隔夜", "保质期", "标签", "剩菜", "亚硝酸盐"),
    },
    "防灾减灾": {
        "地震": ("地震",),
        "洪涝地质": ("山洪", "洪涝", "滑坡", "泥石流", "内涝", "暴雨"),
        "气象灾害": ("高温", "寒潮", "雷", "冰雹", "大雾", "干旱", "中暑", "预警信号"),
        "火灾与家居安全": ("火", "燃气", "天然气", "一氧化碳", "触电", "用电", "电梯"),
    },
    "谣言辨析": {
        "食品谣言": ("塑料紫菜", "相克", "激素", "酸性体质", "千滚水", "注射"),
        "健康谣言": ("误区", "保健品", "抗生素", "碱性水"),
        "科技谣言": ("谣言", "伪科学", "辐射", "5G", "换脸", "诈骗"),
    },
    "生活物理": {
        "光与天气": ("彩虹", "蓝", "晚霞", "云雾", "降水概率", "雾和霾", "紫外线"),
        "热与压力": ("高原", "高压锅", "微波炉", "温室效应"),
        "电与能源": ("电池", "用电", "电动", "辐射"),
    },
    "身边生物": {
        "动植物": ("熊猫", "树叶", "蚊子", "蜱虫", "马蜂", "花椒为什么"),
        "人体": ("睡", "运动", "辣", "刷牙", "麻"),
        "微生物": ("细菌", "病毒", "幽门螺杆菌", "寄生虫", "破伤风"),
    },
}


@dataclass(slots=True)
class Coverage:
    """Article ids per cell, for the crops map and the citizen map, and the stale ones."""

    cells: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    citizen: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    stale: list[tuple[str, str]] = field(default_factory=list)  # (id, updated or "")
    articles: int = 0

    @property
    def empty(self) -> list[tuple[str, str]]:
        return [k for k, v in {**self.cells, **self.citizen}.items() if not v]

    @property
    def total(self) -> int:
        return len(self.cells) + len(self.citizen)


def kind_of(article: Article, *, animal: bool) -> str:
    """The problem kind an article is about: disease and pest articles are what they say;
    the others by the words of their title and tags (施肥 nutrition, 贮藏 storage, 品质 market),
    else by their category."""
    if article.category in ("disease", "pest"):
        return article.category
    words = " ".join((article.title, *article.tags))
    for kind, cues in _KIND_WORDS:
        if kind == "pest" and article.category != "livestock":
            continue
        if any(c in words for c in cues):
            return kind
    if animal and article.category == "livestock":
        return "disease" if any(c in article.title for c in _DISEASE_WORDS) else "cultivation"
    return CATEGORY_KIND.get(article.category, "cultivation")


def coverage(articles: Sequence[Article], *, today: date, max_age_days: int) -> Coverage:
    """The map over *articles*; those updated more than *max_age_days* before *today* (or
    never dated) are stale."""
    cov = Coverage(articles=len(articles))
    for subject in SUBJECTS:
        for kind in KINDS:
            cov.cells[(subject, kind)] = []
    for topic, subs in CITIZEN.items():
        for sub in subs:
            cov.citizen[(topic, sub)] = []
    crop_subject = {crop: s for s, crops in SUBJECTS.items() for crop in crops}
    oldest = today - timedelta(days=max_age_days)
    for a in articles:
        subjects = {crop_subject[c] for c in a.crops if c in crop_subject}
        for subject in subjects:
            cov.cells[(subject, kind_of(a, animal=subject in ANIMALS))].append(a.id)
        if a.category in ("health", "science", "disaster") or not a.crops:
            words = " ".join((a.title, *a.tags))
            for topic, subs in CITIZEN.items():
                for sub, cues in subs.items():
                    if any(c in words for c in cues):
                        cov.citizen[(topic, sub)].append(a.id)
        if not a.updated or date.fromisoformat(a.updated) < oldest:
            cov.stale.append((a.id, a.updated))
    return cov


def render(cov: Coverage) -> Iterable[str]:
    """The map as text lines: counts per cell, ``·`` for an empty one."""
    yield _pad("对象", 10) + "".join(_pad(KIND_LABELS[k], 10) for k in KINDS)
    for subject in SUBJECTS:
        cells = "".join(_pad(_n(cov.cells[(subject, k)]), 10) for k in KINDS)
        yield _pad(subject, 10) + cells
    yield ""
    for topic, subs in CITIZEN.items():
        parts = [f"{sub} {_n(cov.citizen[(topic, sub)])}" for sub in subs]
        yield f"{topic}：" + "　".join(parts)
    yield ""
    yield (
        f"{cov.articles} articles; {len(cov.empty)} of {cov.total} cells empty; "
        f"{len(cov.stale)} stale"
    )
    for subject, kind in cov.empty:
        yield f"  empty: {subject} x {KIND_LABELS.get(kind, kind)}"
    for art_id, updated in cov.stale:
        yield f"  stale: {art_id} (updated {updated or 'never'})"


def _pad(text: str, width: int) -> str:
    """*text* padded to *width* terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


def _n(ids: list[str]) -> str:
    return str(len(ids)) if ids else "·"
