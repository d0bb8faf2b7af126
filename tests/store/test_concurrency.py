"""Experts racing to accept one order: exactly one wins, everyone else is told it is taken."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlmodel import Session, select

from store.lifecycle import AlreadyTaken
from store.order_reads import get_order
from store.order_tables import OrderEvent
from store.orders import accept, mark_matched
from tests.factories import make_expert, post

RACERS = 24


def test_exactly_one_of_many_racing_experts_wins(file_engine: Engine):
    with Session(file_engine, expire_on_commit=False) as s:
        order_id = post(s).order.id
        mark_matched(session=s, order_id=order_id)
        experts = [make_expert(s, f"专家{i}") for i in range(RACERS)]

    barrier = threading.Barrier(RACERS)
    results: dict[int, str] = {}

    def race(expert) -> None:
        with Session(file_engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                accept(session=s, order_id=order_id, expert=expert)
                results[expert.id] = "won"
            except AlreadyTaken as exc:
                results[expert.id] = f"refused: {exc}"
            except Exception as exc:  # noqa: BLE001 - any other outcome is a failure below
                results[expert.id] = f"error: {exc!r}"

    threads = [threading.Thread(target=race, args=(e,)) for e in experts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    winners = [uid for uid, r in results.items() if r == "won"]
    refused = [r for r in results.values() if r.startswith("refused")]
    assert len(results) == RACERS
    assert len(winners) == 1, results
    assert len(refused) == RACERS - 1, results
    assert all("it is accepted" in r for r in refused)
    with Session(file_engine) as s:
        order = get_order(session=s, order_id=order_id)
        assert order.expert_id == winners[0]
        accepts = s.exec(
            select(OrderEvent).where(
                OrderEvent.order_id == order_id, OrderEvent.action == "accept"
            )
        ).all()
        assert [e.actor_id for e in accepts] == winners
    print(f"concurrent accept: {RACERS} racers, 1 winner, {len(refused)} refused")
