"""Redis down, for real: the web code in a process of its own, configured with a REDIS_URL whose
server (the test's own) was stopped, or hangs. The throttle, the job marks and the broker all live there;
every request still answers 2xx and saves, and none waits long on the missing Redis."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection

from accounts.services import token_create
from backlog.models import Item

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("outage", ["stopped", "hung"])
def test_with_redis_away_every_request_answers_and_saves(outage, redis_server, product, owner, items):
    _, raw = token_create(user=owner, name="outage")
    if outage == "stopped":
        redis_server.stop()  # connections are refused
    else:
        redis_server.pause()  # connections are accepted, nothing answers
    code = f"""
        import json, time
        from django.test import Client
        from accounts.models import User
        api = Client(HTTP_AUTHORIZATION="Bearer {raw}")
        page = Client()
        page.force_login(User.objects.get(pk={owner.pk}))
        seen = {{}}
        started = time.monotonic()
        seen["list"] = api.get("/api/v1/products/{product.key}/items/").status_code
        seen["edit"] = api.patch(
            "/api/v1/items/{items[0].pk}/", {{"title": "Saved anyway", "estimate": 3}}, content_type="application/json"
        ).status_code
        seen["create"] = api.post(
            "/api/v1/products/{product.key}/items/", {{"kind": "story", "title": "New anyway"}},
            content_type="application/json",
        ).status_code
        seen["move"] = api.post(
            "/api/v1/items/{items[2].pk}/move/", {{"to": "top"}}, content_type="application/json"
        ).status_code
        seen["page"] = page.get("/p/{product.key}/").status_code
        seen["seconds"] = round(time.monotonic() - started, 2)
        print(json.dumps(seen))
        """
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_server.url,
        "LOG_LEVEL": "ERROR",
    }
    run = subprocess.run(  # noqa: S603 - our own manage.py with code written here
        [sys.executable, "manage.py", "shell", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert {k: v for k, v in seen.items() if k != "seconds"} == {
        "list": 200,
        "edit": 200,
        "create": 201,
        "move": 200,
        "page": 200,
    }, run.stderr
    # No request hung on the missing Redis: a hung one costs each job's enqueue the broker's
    # socket timeout (2 s; here the edit and the move queue jobs), the cache's only once.
    assert seen["seconds"] < 15, seen
    edited = Item.objects.get(pk=items[0].pk)
    assert (edited.title, edited.estimate) == ("Saved anyway", 3)
    assert Item.objects.filter(product=product, title="New anyway").exists()
    assert Item.objects.filter(product=product).order_by("rank").first().pk == items[2].pk
