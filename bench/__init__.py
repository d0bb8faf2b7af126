"""Benchmarks: retrieval quality, NLU accuracy, latency, throughput and scale."""

# the parts of the blind-written data (bench/data/blind): "tune" may be tuned on, each sealed
# part is measured once, at the end of a piece of work
SPLITS = (
    "tune",
    "sealed",
    "sealed2",
    "sealed3",
    "sealed4",
    "sealed5",
    "sealed6",
    "sealed7",
    "sealed8",
)
# the held-out split not yet measured: scored only, never read question by question (the
# older sealed splits are spent and may be studied)
UNSEEN = "sealed8"
