"""Benchmark of raeburnmemory-cli: how fast the command starts, and a first search.

Run ``python bench/bench_cli.py [--n 100000] [--runs 7]``. It times, each in a fresh process of
the installed ``raeburnmemory`` script:

- ``raeburnmemory --help`` (target: under 0.3 s);
- ``raeburnmemory --db <store> similar TEXT`` on a JSON store of ``--n`` interactions filled with
  the offline encoder (target: under 1 s at 100,000);
- ``raeburnmemory --url <server> similar TEXT``: the same search sent to a running server
  (``uvicorn raeburnmemory.api:app``, one worker, on the same store with the offline encoder,
  started once before the timing), when raeburnmemory-api is installed, and the same search
  sent by ``MemoryClient`` from the benchmark's own process (the request alone, no start-up).

Each figure is the median wall time of ``--runs`` runs after one warm-up run, with the CPU time
the process used (user + system), which a busy machine inflates far less than the wall time.
Bytecode is cached (in a temporary folder) as it is for an installed package. ``python -c pass``
is timed in the same run as the floor every process pays. Results go to
``bench/results/cli.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from raeburnmemory.memory_graph import MemoryGraph

RESULTS = Path(__file__).parent / "results"
SCRIPT = Path(sys.executable).with_name("raeburnmemory")
HELP_TARGET_S = 0.3
SIMILAR_TARGET_S = 1.0
_VOCABULARY = (
    "reset password bake bread tune database hiking alps haiku autumn rain vector search fix "
    "leaking tap choose language deploy cluster summarise contract translate letter budget "
    "travel visa invoice refund kettle garden tomato python rust"
)
_WORDS = _VOCABULARY.split()


def fill_store(path: Path, n: int) -> None:
    """Write ``n`` interactions to a JSON store at ``path`` and fold its journal."""
    rng = random.Random(11)
    with MemoryGraph(path, embedding_model=None) as memory:
        memory.batch_add(
            {
                "prompt": {
                    "id": f"p{i}",
                    "text": " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 10))),
                },
                "response": {"id": f"r{i}", "text": f"answer {i}"},
                "agent": {"id": f"agent-{i % 5}"},
                "session_id": f"s{i % 100}",
            }
            for i in range(n)
        )
        memory.export()


def timed_run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one process running ``command``."""
    began = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    assert process.stderr is not None
    process.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime


def measure(command: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median wall and CPU seconds over ``runs`` fresh processes (after one warm-up run)."""
    timed_run(command, env)  # the files in the page cache, as for any later run
    walls, cpus = zip(*(timed_run(command, env) for _ in range(runs)), strict=True)
    return {
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "wall_min_s": min(walls),
    }


def request_ms(url: str, text: str, top_k: int, runs: int) -> float:
    """Median milliseconds of one search request by ``MemoryClient`` (after one warm-up)."""
    from raeburnmemory.api.client import MemoryClient

    with MemoryClient(url) as client:
        client.search(text, top_k)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            client.search(text, top_k)
            times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure_remote(
    store: Path, query: list[str], env: dict[str, str], runs: int
) -> tuple[dict[str, float], float] | None:
    """``measure`` of ``raeburnmemory --url URL`` + ``query`` against a server on ``store``, and
    the request alone in milliseconds; ``None`` without raeburnmemory-api."""
    if importlib.util.find_spec("raeburnmemory.api") is None:
        print("raeburnmemory-api is not installed: no --url figure")
        return None
    from raeburnmemory.api.testing import running_servers

    with running_servers(store.parent / "server") as start:
        server = start({"RAEBURN_DB_PATH": str(store)}, workers=1)
        command = measure([str(SCRIPT), "--url", server.url, *query], env, runs)
        return command, request_ms(server.url, query[1], int(query[3]), runs * 10)


def main() -> int:
    """Parse arguments, run, print and save; status 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="interactions in the store")
    parser.add_argument("--runs", type=int, default=7, help="processes timed per figure")
    args = parser.parse_args()
    if not SCRIPT.exists():
        raise SystemExit(f"the raeburnmemory script is not installed beside {sys.executable}")
    results: dict[str, Any] = {"n": args.n, "runs": args.runs}
    with tempfile.TemporaryDirectory(prefix="raeburnmemory-bench-cli-") as folder:
        # Bytecode cached as an installed package has it (pip compiles it at install), kept in
        # this folder so that the environment is left as it was.
        env = {**os.environ, "RAEBURN_EMBED_MODEL": "none", "PYTHONPYCACHEPREFIX": folder}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        store = Path(folder) / "graph.json"
        began = time.perf_counter()
        fill_store(store, args.n)
        results["fill_s"] = time.perf_counter() - began
        results["python_floor"] = measure([sys.executable, "-c", "pass"], env, args.runs)
        results["help"] = measure([str(SCRIPT), "--help"], env, args.runs)
        query = ["similar", "bake bread in the alps", "-k", "5"]
        results["similar"] = measure([str(SCRIPT), "--db", str(store), *query], env, args.runs)
        (Path(folder) / "server").mkdir()
        remote = measure_remote(store, query, env, args.runs)
        results["similar_url"], results["request_ms"] = remote or (None, None)
    results["help_ok"] = results["help"]["wall_s"] < HELP_TARGET_S
    results["similar_ok"] = results["similar"]["wall_s"] < SIMILAR_TARGET_S
    print(f"store of {args.n:,} interactions filled in {results['fill_s']:.1f} s")
    print(f"{'process':<40} {'wall s':>8} {'min s':>8} {'cpu s':>8} {'target':>8}")
    rows = (
        ("python -c pass", results["python_floor"], None),
        ("raeburnmemory --help", results["help"], HELP_TARGET_S),
        (f"raeburnmemory similar ({args.n:,} stored)", results["similar"], SIMILAR_TARGET_S),
        ("raeburnmemory --url URL similar", results["similar_url"], None),
    )
    for name, figure, target in rows:
        if figure is None:
            continue
        goal = f"{target:.1f}" if target else ""
        print(
            f"{name:<40} {figure['wall_s']:8.3f} {figure['wall_min_s']:8.3f} "
            f"{figure['cpu_s']:8.3f} {goal:>8}"
        )
    if results["request_ms"] is not None:
        print(f"the same search by MemoryClient in this process: {results['request_ms']:.1f} ms")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cli.json").write_text(json.dumps(results, indent=2))
    return 0 if results["help_ok"] and results["similar_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
