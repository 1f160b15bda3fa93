"""Refresh the README's screenshots: demo data, the app served locally, Debian's Chromium.

    make screenshots                    # or: python bench/screenshots.py

Builds the demo product on a fresh PostgreSQL database (BENCH_DATABASE_URL, default
onebacklog_screenshots), adds a month of daily debt snapshots so the trend has a shape (demo
data, like the rest), serves the app on a free local port, signs in as the demo product owner
through the sign-in page, and writes static/screenshots/{backlog,backlog-phone,item,review,debt}.png.
"""

import os
import shutil
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, setup_django

OUT = ROOT / "static" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def main() -> None:
    setup_django(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onebacklog_screenshots"))
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread
    from django.utils import timezone
    from playwright.sync_api import sync_playwright

    from accounts.models import Product
    from backlog.models import Item
    from backlog.services.suggestion import suggested_positions_refresh
    from refinement.management.commands.seed_demo import DEMO_PASSWORD
    from refinement.models import DebtSnapshot
    from refinement.selectors import debt_totals

    settings.DEBUG = True  # seed_demo refuses to run otherwise (it prints a published password)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    product = Product.objects.get(key="OB")
    suggested_positions_refresh(product_id=product.pk)
    totals = debt_totals(product=product)
    today = timezone.localdate()
    for days in range(30, 0, -1):  # a month of history: the debt grew towards today's (demo data)
        share = Decimal(0.7 + 0.3 * (30 - days) / 30 + (0.04 if 8 < days < 16 else 0))
        DebtSnapshot.objects.update_or_create(
            product=product,
            date=today - timedelta(days=days),
            defaults={
                "items": max(int(totals.items * share), 0),
                "principal_points": int(totals.principal_points * share),
                "unestimated": totals.unestimated,
                "interest_hours": (totals.interest_hours * share).quantize(Decimal("0.1")),
            },
        )

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    backlog = Item.objects.filter(product=product).ordered()
    top = backlog.filter(comments__isnull=False).first() or backlog.first()  # an item with a discussion
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1360, "height": 900}, base_url=base)
        page.goto("/accounts/login/")
        page.fill("#id_login", "olivia")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/p/OB/")
        shots = {
            "backlog": "/p/OB/",
            "item": f"/p/OB/{top.number}/",
            "review": "/p/OB/review/",
            "debt": "/p/OB/debt/",
        }
        for name, path in shots.items():
            page.goto(path)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=name != "backlog")
        phone = browser.new_page(viewport={"width": 390, "height": 844}, base_url=base, device_scale_factor=2)
        phone.context.add_cookies(page.context.cookies())
        phone.goto("/p/OB/")
        phone.screenshot(path=str(OUT / "backlog-phone.png"))
        browser.close()
    server.terminate()
    print("\n".join(str(path.relative_to(ROOT)) for path in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
