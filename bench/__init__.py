"""Benchmarks: each module's `run()` returns rows; `python -m bench [name…]` prints one table."""
