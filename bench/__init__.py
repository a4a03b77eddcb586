"""The load benchmark that `make bench` runs: `python -m bench.load` (see bench/RESULTS.md)."""
