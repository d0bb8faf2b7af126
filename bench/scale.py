"""`tianfu bench retrieval --scale N`: query latency and memory with N synthetic chunks."""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import latency_summary, peak_rss_mb
from knowledge.lexicons import default_lexicon, default_vocabulary
from retrieval.factory import open_index
from retrieval.index import Document
from retrieval.tokenizer import shared_tokenizer

_FILLER = [
    "的",
    "在",
    "后",
    "出现",
    "发生",
    "需要",
    "及时",
    "注意",
    "可以",
    "采用",
    "比较",
    "严重",
    "时期",
    "防治",
    "管理",
    "技术",
    "措施",
    "田间",
    "植株",
    "叶片",
    "根系",
    "果实",
]


def synthetic_docs(n: int, seed: int = 7) -> list[Document]:
    """N short documents mixing domain terms, deterministic for a seed."""
    rng = random.Random(seed)
    lex = default_lexicon()
    crops = sorted(lex.crop_alias)
    pests = sorted(lex.pest_alias)
    symptoms = sorted(lex.symptoms)
    practices = sorted(lex.practices)
    docs = []
    for i in range(n):
        words = (
            rng.sample(crops, 2)
            + rng.sample(pests, 2)
            + rng.sample(symptoms, 3)
            + rng.sample(practices, 3)
            + rng.sample(_FILLER, 6)
        )
        rng.shuffle(words)
        text = "，".join("".join(words[j : j + 3]) for j in range(0, len(words), 3)) + "。"
        docs.append(Document(f"s{i}", text, sha256=hashlib.sha1(text.encode()).hexdigest()))
    return docs


def run(n: int, queries: int = 500) -> dict[str, Any]:
    docs = synthetic_docs(n)
    rng = random.Random(11)
    probes = [rng.choice(docs).text[:24] for _ in range(queries)]
    with tempfile.TemporaryDirectory(prefix="tianfu-scale-") as tmp:
        started = time.perf_counter()
        index = open_index(
            "scale", data_dir=Path(tmp), tokenize=shared_tokenizer(default_vocabulary())
        )
        index.sync(docs)
        build = time.perf_counter() - started
        index.search(probes[0], k=10)  # warm caches
        ms = []
        for q in probes:
            t = time.perf_counter()
            index.search(q, k=10)
            ms.append((time.perf_counter() - t) * 1000)
    return {
        "scale_chunks": n,
        "queries": queries,
        **latency_summary(ms),
        "build_s": round(build, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


# ---- `tianfu bench stats --backend postgresql`: millions of needs generated inside PostgreSQL
PG_PROVINCE = "四川省"
QUESTION_TEXTS = [
    "稻瘟病怎么防治",
    "柑橘黄龙病有什么症状",
    "李子流胶是什么原因",
    "猪瘟疫苗多久打一次",
    "发芽的土豆能吃吗",
    "茶园什么时候修剪",
    "无人机飞防作业要不要备案",
    "魔芋软腐病用什么药效果好",
]
# (category, crop) pairs a need can be about
PG_TRADES = [
    ("disease", "水稻"),
    ("disease", "柑橘"),
    ("pest", "玉米"),
    ("pest", "李"),
    ("soil", "茶"),
    ("cultivation", "猕猴桃"),
    ("livestock", "猪"),
    ("processing", "花椒"),
]


def pg_seed(engine: Any, needs: int, *, weeks: int = 12) -> dict[str, int]:
    """Synthetic Sichuan activity with *needs* needs, written by PostgreSQL itself
    (``INSERT ... SELECT`` over ``generate_series``: no row crosses the wire), consistent
    with the order lifecycle: an accepted need has its order, expert, accept time and wait;
    resolved and closed ones their times and ratings; needs nobody took expire after 3 days.
    Requesters are a third of the needs, experts a fiftieth, questions a fifth; a tenth of
    the needs come from enterprises."""
    from sqlalchemy import text

    from store.validation import gazetteer

    places = [
        (city, county)
        for city, counties in gazetteer()[PG_PROVINCE].items()
        for county in sorted(counties)
    ]
    experts, requesters, questions = (
        max(50, needs // 50),
        max(200, needs // 3),
        max(100, needs // 5),
    )
    span = weeks * 7 * 86400
    params = {
        "n": needs,
        "e": experts,
        "r": requesters,
        "q": questions,
        "p": len(places),
        "span": span,
        "prov": PG_PROVINCE,
    }
    trades = ", ".join(f"('{c}', '{k}')" for c, k in PG_TRADES)
    texts = ", ".join(f"'{t}'" for t in QUESTION_TEXTS)
    pick = f"(ARRAY[{texts}])[1 + floor(random() * {len(QUESTION_TEXTS)})::int]"
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        # rows consistent by construction: no per-row foreign-key trigger during the load
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("SELECT setseed(0.2026)"))
        conn.execute(
            text("CREATE TEMP TABLE bench_places (i int PRIMARY KEY, city text, county text)")
        )
        conn.execute(
            text("INSERT INTO bench_places VALUES (:i, :city, :county)"),
            [{"i": i, "city": c, "county": k} for i, (c, k) in enumerate(places)],
        )
        conn.execute(text("CREATE TEMP TABLE bench_trades (category text, crop text)"))
        conn.execute(text(f"INSERT INTO bench_trades VALUES {trades}"))
        conn.execute(
            text(
                "CREATE TEMP TABLE bench_clock AS SELECT "
                "(now() AT TIME ZONE 'UTC')::timestamp AS now, "
                "(now() AT TIME ZONE 'UTC')::timestamp - make_interval(secs => :span) AS start"
            ),
            params,
        )
        # users 1..e are experts, e+1..e+r requesters; a person's place is id % places
        conn.execute(
            text(
                "INSERT INTO users (id, channel, external_id, display_name, locale, phone, "
                "province, city, county, roles, created_at) "
                "SELECT g, 'demo', 'b' || g, '演示' || g, 'zh', "
                "'1990000' || lpad((g % 10000)::text, 4, '0'), :prov, p.city, p.county, "
                "CASE WHEN g <= :e THEN '[\"expert\"]' ELSE '[\"requester\"]' END::json, "
                "c.start - interval '30 days' "
                "FROM generate_series(1, :e + :r) g "
                "JOIN bench_places p ON p.i = g % :p CROSS JOIN bench_clock c"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO expert_profiles (id, user_id, organisation, title, bio, available, "
                "fields, skills, crops, service_regions, rating_count, rating_sum, created_at, "
                "updated_at) "
                "SELECT g, g, '演示农技站', '农艺师', '演示数据', true, '[\"植物保护\"]', '[]', "
                "'[\"水稻\"]', '[]', 0, 0, c.start - interval '30 days', c.start "
                "FROM generate_series(1, :e) g CROSS JOIN bench_clock c"
            ),
            params,
        )
        conn.execute(
            text(
                f"""
INSERT INTO needs (id, text, crop, problem, category, province, city, county, urgency, budget,
    contact_phone, requester_kind, requester_id, status, created_at, accepted_at,
    accept_seconds, resolved_at, rating)
SELECT g, t.crop || '需要技术指导（演示数据）', t.crop, '', t.category, :prov, p.city, p.county,
    'normal', NULL, '19900000000', CASE WHEN k < 0.1 THEN 'enterprise' ELSE 'individual' END,
    r, CASE WHEN closed THEN 'closed' WHEN resolved THEN 'resolved'
        WHEN accepted THEN 'accepted' WHEN created < now - interval '3 days' THEN 'expired'
        WHEN created < now - interval '1 minute' THEN 'matched' ELSE 'posted' END,
    created, CASE WHEN accepted THEN accepted_at END, CASE WHEN accepted THEN wait END,
    CASE WHEN resolved THEN resolved_at END,
    CASE WHEN closed THEN 5 - floor(power(rate_u, 2.5) * 5)::int END
FROM (
    SELECT *, resolved AND clo_u < 0.75 AND resolved_at + clo_days * interval '1 day' < now
        AS closed
    FROM (
        SELECT *, accepted AND res_u < 0.8 AND resolved_at < now AS resolved
        FROM (
            SELECT *, take AND accepted_at < now AS accepted,
                accepted_at + res_days * interval '1 day' AS resolved_at
            FROM (
                SELECT g, r, k, trade, take, wait, res_u, res_days, clo_u, clo_days, rate_u,
                    now, created, created + wait * interval '1 second' AS accepted_at
                FROM (
                    SELECT g, :e + 1 + floor(random() * :r)::int AS r, random() AS k,
                        floor(random() * {len(PG_TRADES)})::int AS trade,
                        random() < 0.6 AS take,
                        greatest(60, round(3600 * exp(1.2 + 0.9 * sqrt(-2 * ln(1 - random()))
                            * cos(2 * pi() * random()))))::int AS wait,
                        random() AS res_u, 0.5 + random() * 5.5 AS res_days,
                        random() AS clo_u, random() * 3 AS clo_days, random() AS rate_u,
                        c.now, c.start + power(random(), 0.7) * :span * interval '1 second'
                            AS created
                    FROM generate_series(1, :n) g CROSS JOIN bench_clock c
                ) s0
            ) s1
        ) s2
    ) s3
) s4
JOIN bench_places p ON p.i = s4.r % :p
JOIN (SELECT row_number() OVER () - 1 AS i, category, crop FROM bench_trades) t
    ON t.i = s4.trade
"""
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO orders (id, need_id, requester_id, expert_id, status, match_round, "
                "resolution_note, created_at, updated_at, accepted_at, resolved_at, closed_at, "
                "contacts_at) "
                "SELECT id, id, requester_id, "
                "CASE WHEN accepted_at IS NOT NULL THEN 1 + (id::bigint * 7919) % :e END, "
                "status, 1, '', "
                "created_at, coalesce(resolved_at, accepted_at, created_at), accepted_at, "
                "resolved_at, NULL, accepted_at FROM needs"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO question_log (id, user_id, question, answered, top_hit, top_title, "
                "score, province, city, county, feedback, created_at) "
                f"SELECT g, u, {pick}, "
                "random() > 0.18, '', '', 0.8, :prov, p.city, p.county, 0, "
                "c.start + power(random(), 0.8) * :span * interval '1 second' "
                "FROM (SELECT g, :e + 1 + floor(random() * :r)::int AS u "
                "FROM generate_series(1, :q) g) s "
                "JOIN bench_places p ON p.i = s.u % :p CROSS JOIN bench_clock c"
            ),
            params,
        )
        for table in ("users", "expert_profiles", "needs", "orders", "question_log"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
            )
    return {"needs": needs, "experts": experts, "requesters": requesters, "questions": questions}
