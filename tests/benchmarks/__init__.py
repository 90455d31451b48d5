"""Benchmarks that print figures (``python -m tests.benchmarks.bench_<name>``); never
collected by pytest, never asserted on time."""
