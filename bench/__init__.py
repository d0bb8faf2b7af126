"""Benchmarks: retrieval quality, NLU accuracy, latency, throughput and scale."""
