"""`tianfu bench push --users N`: time and memory to plan one push round for N subscribers.

A file SQLite database is seeded with N users, their subscriptions, interest profiles and a
week of push history (some people are capped or pushed too recently); the catalogue is the
bundled corpus read through the loader. Figures: seconds to plan the round (selection and the
push-log writes), seconds to queue its messages in the outbox, pushes planned, peak RSS.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.measure import peak_rss_mb
from dialogs.push import Catalogue, PushPlanner
from knowledge import CORPUS_DIR
from knowledge.ingest import article_document
from knowledge.loader import article_files, load_articles
from store.db import init_db, make_engine, make_session_factory
from store.interests import Interest
from store.outbox import enqueue_many
from store.push import PushLog
from store.subscriptions import Subscription
from store.users import User

TOPICS = ["水稻", "柑橘", "李", "猕猴桃", "猪", "病虫害", "土壤", "地震", "养殖", "茶", "辣椒"]
CROPS = ["水稻", "柑橘", "李", "玉米", "猪", "小麦", "油菜", "辣椒", "茶"]
CATEGORIES = ["disease", "pest", "soil", "cultivation", "livestock"]
PLACES = ["四川省|成都市|双流区", "四川省|宜宾市|翠屏区", "四川省|泸州市|合江县", "重庆市|重庆市|"]
# 10:00 in Chengdu in mid-June: inside the default window, in the rice-blast season
NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


def catalogue() -> Catalogue:
    loaded = load_articles(article_files(CORPUS_DIR))
    rows = []
    for article in loaded.articles:
        doc = article_document(article)
        rows.append((doc.id, doc.metadata, article.body.split("\n\n", 1)[0]))
    return Catalogue.from_metadata(rows)


def seed(url: str, users: int, articles: list[str], seed_: int = 11) -> float:
    """Insert the synthetic population in bulk; return the seconds it took."""
    rng = random.Random(seed_)
    engine = make_engine(url)
    init_db(engine)
    started = time.perf_counter()
    chunk = 20_000
    with engine.begin() as conn:
        for lo in range(0, users, chunk):
            ids = range(lo + 1, min(users, lo + chunk) + 1)
            conn.execute(
                insert(User),
                [
                    {
                        "id": i,
                        "channel": "telegram",
                        "external_id": str(100_000_000 + i),
                        "roles": [],
                        "locale": "zh",
                        "created_at": NOW,
                    }
                    for i in ids
                ],
            )
            subs: list[dict[str, Any]] = []
            interests: list[dict[str, Any]] = []
            pushes: list[dict[str, Any]] = []
            for i in ids:
                for topic in rng.sample(TOPICS, rng.randint(1, 3)):
                    subs.append({"user_id": i, "topic": topic, "created_at": NOW})
                for crop in rng.sample(CROPS, rng.randint(0, 2)):
                    interests.append(
                        {"user_id": i, "kind": "crop", "value": crop, "weight": rng.randint(1, 5)}
                    )
                if rng.random() < 0.5:
                    interests.append(
                        {"user_id": i, "kind": "category", "value": rng.choice(CATEGORIES)}
                    )
                if rng.random() < 0.7:
                    interests.append({"user_id": i, "kind": "region", "value": rng.choice(PLACES)})
                # history: a few pushes over the last 10 days, each article once per person
                for article in rng.sample(articles, rng.choice((0, 0, 1, 2, 3))):
                    pushes.append(
                        {
                            "user_id": i,
                            "article_id": article,
                            "topic": "",
                            "created_at": NOW - timedelta(hours=rng.randint(1, 240)),
                        }
                    )
            conn.execute(insert(Subscription), subs)
            if interests:
                conn.execute(
                    insert(Interest),
                    [{"weight": 1, "updated_at": NOW, **row} for row in interests],
                )
            if pushes:
                conn.execute(insert(PushLog), pushes)
    engine.dispose()
    return time.perf_counter() - started


def run(users: int) -> dict[str, Any]:
    cat = catalogue()
    with tempfile.TemporaryDirectory(prefix="tianfu-bench-push-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'push.db'}"
        seed_seconds = seed(url, users, [e.id for e in cat.entries])
        engine = make_engine(url)
        factory = make_session_factory(engine)
        planner = PushPlanner(catalogue=lambda: cat)
        started = time.perf_counter()
        outcome = planner.run_due(factory, now=NOW)
        plan_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with factory() as session:
            enqueue_many(
                session=session,
                messages=[
                    {
                        "channel": m.channel,
                        "external_id": m.external_id,
                        "text": m.text,
                        "kind": m.kind,
                        "ref": m.ref,
                    }
                    for m in outcome.outbound
                ],
            )
        queue_seconds = time.perf_counter() - started
        planned = len(outcome.outbound)
        again = planner.run_due(factory, now=NOW + timedelta(minutes=1))
        engine.dispose()
    return {
        "benchmark": "push",
        "users": users,
        "articles": len(cat.entries),
        "seed_s": round(seed_seconds, 2),
        "plan_round_s": round(plan_seconds, 2),
        "users_per_s": round(users / plan_seconds) if plan_seconds else None,
        "pushes_planned": planned,
        "queue_s": round(queue_seconds, 2),
        "second_round_pushes": len(again.outbound),  # 0: spacing holds within a round's gap
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
