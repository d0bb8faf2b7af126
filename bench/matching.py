"""`tianfu bench matching --experts N`: latency and memory of expert matching, and how often
the top 5 holds an expert of the right field in the same city (a labelled synthetic set)."""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.measure import latency_summary, peak_rss_mb
from dialogs.nlu.regions import gazetteer
from knowledge.lexicons import default_lexicon, default_vocabulary
from retrieval.factory import open_index
from retrieval.matching import ExpertCard, ExpertMatcher, NeedQuery, Scope
from retrieval.tokenizer import shared_tokenizer
from store.region import Region

HOME = ("四川省", "重庆市")
PROBLEMS = {
    "disease": ["叶片出现病斑", "果实腐烂", "流胶严重", "发霉", "根腐烂"],
    "pest": ["虫害严重", "叶子被虫吃了", "蚜虫多", "红蜘蛛爆发", "钻心虫"],
    "soil": ["土壤酸化", "土壤板结", "缺素黄叶", "施肥不当", "返盐"],
    "cultivation": ["产量低", "不坐果", "修剪不会", "育苗失败", "品种老化"],
    "livestock": ["猪拉稀", "鸡不下蛋", "牛不吃食", "鱼浮头", "羊咳嗽"],
    "processing": ["贮藏烂果", "保鲜不好", "烘干变色", "加工工艺", "包装销售"],
}


def counties() -> list[Region]:
    out = []
    for names in gazetteer().names.values():
        for p in names:
            if p.province in HOME and p.county:
                out.append(Region(p.province, p.city, p.county))
    return sorted(set(out), key=lambda a: (a.province, a.city, a.county))


def synthetic(
    n_experts: int, n_needs: int, seed: int = 3
) -> tuple[list[ExpertCard], list[tuple[NeedQuery, str]]]:
    rng = random.Random(seed)
    lex = default_lexicon()
    by_cat: dict[str, list[str]] = defaultdict(list)
    for term, cat in lex.fields.items():
        by_cat[cat].append(term)
    cats = [c for c in PROBLEMS if by_cat.get(c)]
    plants = [c for c, t in lex.crops.items() if t.kind not in ("畜禽", "水产")]
    animals = [c for c, t in lex.crops.items() if t.kind in ("畜禽", "水产")]
    places = counties()
    experts = []
    for i in range(n_experts):
        cat = rng.choice(cats)
        home = rng.choice(places)
        kind = rng.random()
        region = (
            home
            if kind < 0.6
            else Region(home.province, home.city)
            if kind < 0.9
            else Region(home.province)
        )
        crops = rng.sample(animals if cat == "livestock" else plants, 2)
        experts.append(
            ExpertCard(
                user_id=i + 1,
                name=f"专家{i + 1}",
                fields=tuple(rng.sample(by_cat[cat], min(2, len(by_cat[cat])))),
                crops=tuple(crops),
                categories=(cat,),
                home=home,
                regions=(region,),
                available=rng.random() > 0.05,
                open_orders=rng.randrange(0, 4),
                rating_avg=round(rng.uniform(3, 5), 1) if rng.random() > 0.3 else None,
            )
        )
    needs = []
    for _ in range(n_needs):
        cat = rng.choice(cats)
        crop = rng.choice(animals if cat == "livestock" else plants)
        area = rng.choice(places)
        text = f"{crop}{rng.choice(PROBLEMS[cat])}，想请专家来看看"
        needs.append((NeedQuery(text, crop, cat, area), cat))
    return experts, needs


def run(n_experts: int, n_needs: int = 1000) -> dict[str, Any]:
    experts, needs = synthetic(n_experts, n_needs)
    with tempfile.TemporaryDirectory(prefix="tianfu-match-") as tmp:
        started = time.perf_counter()
        matcher = ExpertMatcher(
            open_index(
                "bench_experts",
                data_dir=Path(tmp),
                tokenize=shared_tokenizer(default_vocabulary()),
            )
        )
        matcher.sync(experts)
        build = time.perf_counter() - started
        # the label: is there an available expert of this field serving the need's city?
        serves: set[tuple[str, str, str]] = set()
        for c in experts:
            for r in c.regions:
                if c.available and r.level >= 2:
                    serves.update((r.province, r.city, cat) for cat in c.categories)
        ms: list[float] = []
        hits = answerable = 0
        for need, cat in needs:
            t = time.perf_counter()
            top = matcher.rank(need, k=5, scope=Scope.CITY)
            ms.append((time.perf_counter() - t) * 1000)
            if (need.area.province, need.area.city, cat) in serves:
                answerable += 1
                if any(
                    cat in matcher.cards[m.user_id].categories
                    and m.region_level in ("county", "city")
                    for m in top
                ):
                    hits += 1
    return {
        "experts": n_experts,
        "needs": n_needs,
        **latency_summary(ms),
        "top5_right_field_same_city": round(hits / max(1, answerable), 4),
        "answerable_needs": answerable,
        "build_s": round(build, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
