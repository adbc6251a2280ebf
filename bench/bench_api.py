"""Benchmark of raeburnmemory-api: similarity searches against health checks, one server.

Run ``python bench/bench_api.py [--n 10000] [--seconds 4] [--rounds 3] [--threads 4]
[--workers <cores>]``. It fills a JSON store with ``--n`` interactions (offline encoder), starts
``uvicorn raeburnmemory.api:app`` on 127.0.0.1, and drives it with one load generator (httpx,
one keep-alive connection per thread). Phases alternate (health, search, health, search, ...)
so that both rates see the same machine; the figure is the ratio of the summed rates. The
target: ``POST /memory/similar`` sustains at least half the request rate of ``GET /healthz``.
Results go to ``bench/results/api.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from raeburnmemory.memory_graph import MemoryGraph

RESULTS = Path(__file__).parent / "results"
TARGET_RATIO = 0.5
_VOCABULARY = (
    "reset password bake bread tune database hiking alps haiku autumn rain vector search fix "
    "leaking tap choose language deploy cluster summarise contract translate letter budget "
    "travel visa invoice refund kettle garden tomato python rust"
)
WORDS = _VOCABULARY.split()


def _prompt(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10)))


def fill_store(path: Path, n: int) -> list[str]:
    """Write ``n`` interactions to a JSON store at ``path``; the prompt texts."""
    rng = random.Random(7)
    texts = [f"{_prompt(rng)} {i}" for i in range(n)]
    with MemoryGraph(path, embedding_model=None) as memory:
        memory.batch_add(
            {
                "prompt": {"id": f"p{i}", "text": text},
                "response": {"id": f"r{i}", "text": f"answer {i}"},
                "agent": {"id": f"agent-{i % 5}"},
                "session_id": f"s{i % 100}",
            }
            for i, text in enumerate(texts)
        )
        memory.export()
    return texts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_cpu(pid: int) -> float | None:
    """CPU seconds used so far by process ``pid`` and its direct children (Linux only)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    for entry in entries:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(entry) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


@contextlib.contextmanager
def server(path: Path, workers: int, log: Path, options: str) -> Iterator[tuple[str, int]]:
    """A uvicorn server on the store at ``path``; yields its URL and pid, then stops it."""
    port = _free_port()
    env = {**os.environ, "RAEBURN_DB_PATH": str(path), "RAEBURN_EMBED_MODEL": "none"}
    env["RAEBURN_STORE_OPTIONS"] = options
    env["RAEBURN_API_KEY"] = "bench"
    command = [
        sys.executable, "-m", "uvicorn", "raeburnmemory.api:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level",
        "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the server stopped:\n{log.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    headers = {"Authorization": "Bearer bench"}
                    if httpx.get(f"{url}/memory/stats", headers=headers).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start in 120 s")
                time.sleep(0.2)
            yield url, process.pid
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


Request = Callable[[httpx.Client, random.Random], httpx.Response]


def phase(url: str, pid: int, request: Request, threads: int, seconds: float) -> dict[str, float]:
    """Send ``request`` from ``threads`` threads for ``seconds``; rate, latencies, server CPU."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    failures = [0] * threads
    clock = {"began": 0.0, "stop": 0.0}

    def open_the_gate() -> None:  # run once, when every thread is connected
        clock["began"] = time.perf_counter()
        clock["stop"] = clock["began"] + seconds

    gate = threading.Barrier(threads, action=open_the_gate)

    def run(slot: int) -> None:
        rng = random.Random(slot)
        headers = {"Authorization": "Bearer bench"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            request(client, rng)  # connect before the clock starts
            gate.wait()
            mine = latencies[slot]
            while (began := time.perf_counter()) < clock["stop"]:
                response = request(client, rng)
                mine.append(time.perf_counter() - began)
                if response.status_code != 200:
                    failures[slot] += 1

    pool = [threading.Thread(target=run, args=(slot,)) for slot in range(threads)]
    cpu_before = server_cpu(pid)
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - clock["began"]
    cpu_after = server_cpu(pid)
    merged = sorted(value for part in latencies for value in part)
    if any(failures):
        raise SystemExit(f"{sum(failures)} requests failed")
    return {
        "requests": len(merged),
        "seconds": elapsed,
        "rate": len(merged) / elapsed,
        "p50_ms": 1000 * merged[len(merged) // 2],
        "p99_ms": 1000 * merged[min(len(merged) - 1, int(len(merged) * 0.99))],
        "server_cpu_ms": (
            1000 * (cpu_after - cpu_before) / len(merged)
            if cpu_before is not None and cpu_after is not None
            else float("nan")
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="interactions in the store")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3, help="health/search phase pairs")
    parser.add_argument("--threads", type=int, default=4, help="load generator threads")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="uvicorn workers (one per core)"
    )
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument(
        "--options", default="{}", help='RAEBURN_STORE_OPTIONS, e.g. {"index": "hnsw"}'
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="raeburn-bench-api-") as folder:
        path = Path(folder) / "graph.json"
        started = time.perf_counter()
        texts = fill_store(path, args.n)
        fill_seconds = time.perf_counter() - started

        def health(client: httpx.Client, rng: random.Random) -> httpx.Response:
            return client.get("/healthz")

        def similar(client: httpx.Client, rng: random.Random) -> httpx.Response:
            body = {"text": rng.choice(texts), "top_k": args.top_k}
            return client.post("/memory/similar", json=body)

        phases: dict[str, list[dict[str, float]]] = {"healthz": [], "similar": []}
        log = Path(folder) / "server.log"
        with server(path, args.workers, log, args.options) as (url, pid):
            # Each worker builds its in-memory index on its first search: not measured.
            phase(url, pid, similar, args.threads, 2.0)
            for _ in range(args.rounds):
                phases["healthz"].append(phase(url, pid, health, args.threads, args.seconds))
                phases["similar"].append(phase(url, pid, similar, args.threads, args.seconds))

    def total(name: str) -> dict[str, float]:
        runs = phases[name]
        requests = sum(run["requests"] for run in runs)
        seconds = sum(run["seconds"] for run in runs)
        return {
            "requests": requests,
            "rate": requests / seconds,
            "p50_ms": statistics.median(run["p50_ms"] for run in runs),
            "p99_ms": max(run["p99_ms"] for run in runs),
            "server_cpu_ms": statistics.median(run["server_cpu_ms"] for run in runs),
        }

    summary = {name: total(name) for name in phases}
    ratio = summary["similar"]["rate"] / summary["healthz"]["rate"]
    print(f"store: {args.n} interactions (offline encoder), filled in {fill_seconds:.1f} s")
    print(f"server: uvicorn, {args.workers} worker(s), store options {args.options}; "
          f"load: {args.threads} httpx threads, "
          f"{args.rounds} x {args.seconds:g} s per route, alternating")  # fmt: skip
    print(f"\n{'route':<22}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms':>9}")
    for name, route in (("healthz", "GET /healthz"), ("similar", "POST /memory/similar")):
        row = summary[name]
        cells = f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['server_cpu_ms']:>9.2f}"
        print(f"{route:<22}{row['requests']:>10.0f}{row['rate']:>10.0f}{cells}")
    print("(CPU ms: CPU time the server processes spent per request, from /proc)")
    verdict = "ok" if ratio >= TARGET_RATIO else "below target"
    print(f"\nsimilar / healthz request rate: {ratio:.2f} (target >= {TARGET_RATIO}): {verdict}")

    RESULTS.mkdir(exist_ok=True)
    figures: dict[str, Any] = {
        "n": args.n,
        "workers": args.workers,
        "threads": args.threads,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "top_k": args.top_k,
        "store_options": json.loads(args.options),
        "cpus": os.cpu_count(),
        "healthz": summary["healthz"],
        "similar": summary["similar"],
        "phases": phases,
        "similar_to_healthz": ratio,
        "target": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }
    (RESULTS / "api.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
