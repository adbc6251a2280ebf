"""Run every benchmark in this folder in turn: ``python bench/run.py [--n N] [part ...]``.

Each ``bench_<part>.py`` prints its own table and writes ``bench/results/<part>.json``. Giving
parts runs only those (``python bench/run.py sqlite core``); ``--n`` is passed on to each.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks(parts: list[str]) -> list[Path]:
    """The benchmark scripts to run, in name order, or an error naming an unknown part."""
    found = {path.stem.removeprefix("bench_"): path for path in sorted(HERE.glob("bench_*.py"))}
    unknown = sorted(set(parts) - set(found))
    if unknown:
        raise SystemExit(f"no benchmark for {', '.join(unknown)}; there are: {', '.join(found)}")
    return [found[part] for part in parts] if parts else list(found.values())


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks and print how long each took and whether it passed."""
    parser = argparse.ArgumentParser(description="Run the raeburnmemory benchmarks.")
    parser.add_argument("parts", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--n", type=int, help="size passed on to every benchmark")
    args = parser.parse_args(argv)
    passed_on = ["--n", str(args.n)] if args.n else []

    outcomes: list[tuple[str, int, float]] = []
    for script in benchmarks(args.parts):
        print(f"\n=== {script.name} {' '.join(passed_on)}".rstrip(), flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *passed_on], cwd=HERE.parent)
        outcomes.append((script.name, code, time.perf_counter() - started))

    print("\nbenchmark                 seconds  result")
    for name, code, seconds in outcomes:
        print(f"{name:<24} {seconds:8.1f}  {'ok' if code == 0 else f'failed ({code})'}")
    return 1 if any(code for _, code, _ in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
