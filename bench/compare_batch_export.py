"""``batch_add`` then ``export()`` on a new JSON store, in CPU and wall seconds, alternating trees.

Run ``python bench/compare_batch_export.py [--n 100000] [--rounds 2] [--src DIR ...]``. Each
round runs, for every ``--src`` in turn (a ``packages/raeburnmemory-core/src`` directory of
another checkout, or ``installed`` for the installed package, the default), a fresh process
that stores ``--n`` interactions of ``bench_core.py``'s sparse workload with one ``batch_add``
(vectors computed beforehand: encoding excluded) and then calls ``export()``, as the README's
usage does. Alternating the trees lets two versions be compared under the same load on a noisy
machine; CPU seconds (user + system of the process) are steadier than wall seconds there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

_CHILD = """
import json, os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {bench!r})
from threadpoolctl import threadpool_limits
threadpool_limits(limits=1, user_api="blas")
from bench_core import iter_items, texts
from workloads import PrecomputedEncoder, encoder_for
from raeburnmemory.memory_graph import MemoryGraph

n = {n}
prompts = texts(n)
encoder = PrecomputedEncoder(encoder_for("sparse"), prompts)
with tempfile.TemporaryDirectory() as tmp:
    with MemoryGraph(db_path=Path(tmp) / "graph.json", embedding_model=encoder) as graph:
        wall, cpu = time.perf_counter(), time.process_time()
        graph.batch_add(iter_items(prompts))
        add = (time.perf_counter() - wall, time.process_time() - cpu)
        wall, cpu = time.perf_counter(), time.process_time()
        graph.export()
        export = (time.perf_counter() - wall, time.process_time() - cpu)
print(json.dumps({{"batch_add": add, "export": export, "load": os.getloadavg()[0]}}))
"""


def run_once(src: str, n: int) -> dict[str, Any]:
    """One fresh process of ``src``: batch_add and export (wall, CPU) and the load average."""
    env = dict(os.environ)
    if src != "installed":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    code = _CHILD.format(bench=str(Path(__file__).parent), n=n)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    """Parse arguments, run the rounds, print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="interactions in the batch")
    parser.add_argument("--rounds", type=int, default=2, help="runs of every tree, alternated")
    parser.add_argument(
        "--src", action="append", help="a core src directory, or 'installed' (repeatable)"
    )
    args = parser.parse_args()
    trees = args.src or ["installed"]
    print(
        "tree | batch_add wall/CPU s | export wall/CPU s | export/batch_add CPU | "
        "interactions/s wall (CPU) | load"
    )
    for _ in range(args.rounds):
        for src in trees:
            found = run_once(src, args.n)
            (add_wall, add_cpu), (exp_wall, exp_cpu) = found["batch_add"], found["export"]
            print(
                f"{src} | {add_wall:.2f}/{add_cpu:.2f} | {exp_wall:.2f}/{exp_cpu:.2f} | "
                f"{exp_cpu / add_cpu:.2f} | {args.n / (add_wall + exp_wall):,.0f} "
                f"({args.n / (add_cpu + exp_cpu):,.0f}) | {found['load']:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
