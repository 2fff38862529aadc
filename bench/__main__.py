"""Run the benchmarks and print one table: `python -m bench [stats qr …]` (all when none named).

Each `bench/<name>_bench.py` has `run()` returning rows [benchmark, measure, value, target, note]. A module
that times only some phases takes the machine-wide lock itself (`bench.load.timing`, TIMES_ITSELF = True);
the others run whole under it, so two benchmarks on one machine never time each other."""
import contextlib
import importlib
import platform
import sys
import time
import datetime as dt

from bench import load

BENCHES = ["stats", "qr", "drain", "h5", "api", "webhook", "ballot", "drill", "duty", "consultation", "minqing",
           "console"]


def main(names):
    rows = []
    for name in names or BENCHES:
        module = importlib.import_module(f"bench.{name}_bench")
        started = time.perf_counter()
        with contextlib.nullcontext() if getattr(module, "TIMES_ITSELF", False) else load.timing():
            rows += module.run()
        print(f"# {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(f"\n代表连心 benchmarks — {dt.date.today()} — {platform.processor() or platform.machine()}, "
          f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}\n")
    widths = [max(len(str(r[i])) for r in rows + [HEADER]) for i in range(len(HEADER))]
    for row in [HEADER, ["-" * w for w in widths]] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


HEADER = ["benchmark", "measure", "value", "target", "note"]

if __name__ == "__main__":
    main(sys.argv[1:])
