"""Weighted reciprocal-rank fusion."""

from __future__ import annotations

from collections.abc import Sequence


def rrf(
    ranked_lists: Sequence[Sequence[str]], weights: Sequence[float] | None = None, c: int = 60
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum_i w_i / (c + rank_i(id)), ranks from 1.

    Ids are deduplicated (the first occurrence in each list counts); ties keep the order in
    which ids were first seen.
    """
    if weights is None:
        weights = [1.0] * len(ranked_lists)
    if len(weights) != len(ranked_lists):
        msg = f"{len(weights)} weights for {len(ranked_lists)} ranked lists"
        raise ValueError(msg)
    scores: dict[str, float] = {}
    for ranking, weight in zip(ranked_lists, weights, strict=True):
        seen: set[str] = set()
        for rank, doc_id in enumerate(ranking, start=1):
            if doc_id in seen:
                continue
            seen.add(doc_id)
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (c + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
