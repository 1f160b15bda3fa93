"""API benchmark on PostgreSQL, served by gunicorn. Prints JSON (and writes bench/results/api.json).

    make bench-api                      # or: python bench/api.py [--items N] [--seconds S]

On a fresh database with an N-item backlog (default 100,000) it starts gunicorn and measures,
at 1 and 8 concurrent clients: throughput and p50/p99 latency of the first page, a page deep in
the backlog (cursor at 90 %), a filtered list, and a move; the queries each request runs; and,
in the same run, a bare DRF ListAPIView over the same table (no authentication, permissions,
throttling or filters; same serializer and cursor pagination) as the baseline, with the ratios.
"""

import argparse
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, percentiles, setup_django

PORT = 8765


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def request(method: str, path: str, token: str | None, body: dict | None = None) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    start = time.perf_counter()
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - start) * 1000
    conn.close()
    return response.status, elapsed


def load(name: str, make_request, clients: int, seconds: float) -> dict:
    """Run ``make_request`` from ``clients`` threads for ``seconds``; return latency and throughput."""
    samples: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        n = 0
        while time.monotonic() < stop:
            status, elapsed = make_request(index, n)
            n += 1
            with lock:
                (samples if status < 400 else failures).append(elapsed if status < 400 else status)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{name}: {len(failures)} failed requests, e.g. status {failures[0]}")
    stats = percentiles(samples)
    return {
        "clients": clients,
        "requests": stats["n"],
        "per_second": round(stats["n"] / wall, 1),
        "p50_ms": stats["median_ms"],
        "p99_ms": stats["p99_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement (default 8)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["API_THROTTLE_RATE"] = "100000000/min"  # measure the API, not the throttle
    sys.path.insert(0, str(ROOT))
    url = setup_django(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_bench_api"))

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership, Product, User
    from accounts.services import token_create
    from backlog.models import Item
    from backlog.services.demo import demo_backlog_seed

    owner = User.objects.create(username="bench-owner")
    product = Product.objects.create(name="Benchmark", key="BENCH")
    Membership.objects.create(user=owner, product=product, role=Membership.Role.OWNER)
    demo_backlog_seed(product=product, creators=[owner], count=args.items, only_ordered=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, token = token_create(user=owner, name="bench")
    ranks = list(Item.objects.filter(product=product).order_by("rank").values_list("rank", flat=True))
    ids = list(Item.objects.filter(product=product).values_list("id", flat=True))
    deep_cursor = base64.b64encode(urlencode({"p": ranks[int(len(ranks) * 0.9)]}).encode()).decode()

    paths = {
        "first_page": f"/api/v1/products/{product.key}/items/",
        "deep_page": f"/api/v1/products/{product.key}/items/?cursor={deep_cursor}",
        "filtered": f"/api/v1/products/{product.key}/items/?kind=defect,tech_debt&label=payments",
        "baseline_first_page": f"/bare/{product.key}/items/",
        "baseline_deep_page": f"/bare/{product.key}/items/?cursor={deep_cursor}",
    }

    # Queries per request, in-process (same code path as the server).
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(paths["first_page"])  # the token's first use is recorded once
    queries = {}
    for name, path in paths.items():
        for page_size in ("", "page_size=200"):
            sep = "&" if "?" in path else "?"
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path + (sep + page_size if page_size and "bare" not in path else ""))
            assert response.status_code == 200, response.content[:300]
            queries.setdefault(name, set()).add(len(ctx.captured_queries))
    with CaptureQueriesContext(connection) as ctx:
        client.post(f"/api/v1/items/{ids[0]}/move/", {"to": "top"}, content_type="application/json")
    queries_per_move = len(ctx.captured_queries)
    connection.close()

    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "bench.wsgi:application",
            f"--bind=127.0.0.1:{PORT}",
            f"--workers={args.workers}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for_port(PORT)
        for path in paths.values():  # warm every worker
            for _ in range(args.workers * 2):
                request("GET", path, token)
        results: dict = {
            "database": "PostgreSQL",
            "backlog_items": args.items,
            "server": f"gunicorn, {args.workers} sync workers",
            "seconds_per_measurement": args.seconds,
            "queries_per_request": {
                name: sorted(counts)[0] if len(counts) == 1 else sorted(counts) for name, counts in queries.items()
            },
            "queries_per_move": queries_per_move,
        }
        for clients in (1, 8):
            for name, path in paths.items():
                auth = None if name.startswith("baseline") else token
                results[f"{name}_c{clients}"] = load(
                    name, lambda i, n, path=path, auth=auth: request("GET", path, auth), clients, args.seconds
                )

            def move(index: int, n: int) -> tuple[int, float]:
                item_id = ids[(index * 7919 + n * 104729) % len(ids)]
                return request("POST", f"/api/v1/items/{item_id}/move/", token, {"to": "top"})

            results[f"move_c{clients}"] = load("move", move, clients, args.seconds)
            for page in ("first_page", "deep_page"):
                ours, bare = results[f"{page}_c{clients}"], results[f"baseline_{page}_c{clients}"]
                results[f"ratio_{page}_p50_c{clients}"] = round(ours["p50_ms"] / bare["p50_ms"], 2)
    finally:
        server.terminate()
        server.wait(timeout=30)

    out = json.dumps(results, indent=2)
    print(out)
    if args.items == 100_000:
        (ROOT / "bench" / "results" / "api.json").write_text(out + "\n")


if __name__ == "__main__":
    main()
