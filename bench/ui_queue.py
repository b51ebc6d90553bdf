"""Web app benchmark: how long until the queue page of an org with 100,000 active tasks
shows its first page in a real browser (Debian's headless Chromium driven by Playwright),
signed in, against the gateway as a real process.

Each sample is a fresh navigation to /queue (new page, warm browser cache for the static
files as a returning user has): from the request to the first task row being visible.
Prints ui_queue_load_ms (the median of 10), and the min, max and the browser's own
navigation timing (responseStart, domContentLoaded) for context.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from playwright.async_api import async_playwright

from bench.queue_page import load
from common import localstack

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EMAIL, PASSWORD = "biller@bench.test", "bench-password-1"


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=10)
    args = ap.parse_args()

    with localstack.scratch_stack("bench-ui", services=("gateway",)) as stack:
        dsn = f"postgresql://postgres@127.0.0.1:5432/{stack.db_prefix}gateway"
        load(dsn, 1, args.tasks)  # org-0, every task active
        stack.up(workers=(), apis=("gateway",))
        stack.seed_users({"orgs": [{"id": "org-0", "name": "Bench Clinic"}], "users": [{
            "org_id": "org-0", "email": EMAIL, "name": "Bench Biller", "password": PASSWORD,
            "roles": ["biller"]}]})
        url = stack["gateway-api"].url
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            ctx = await browser.new_context(base_url=url, viewport={"width": 1440, "height": 900})
            page = await ctx.new_page()
            await page.goto("/login")
            await page.get_by_label("E-mail").fill(EMAIL)
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url("**/queue")
            await page.close()
            samples, ttfb, dcl = [], [], []
            for i in range(args.samples + 2):
                page = await ctx.new_page()
                t0 = time.perf_counter()
                await page.goto("/queue", wait_until="commit")
                await page.locator("#queue-rows tr[data-task-id]").first.wait_for(state="visible")
                elapsed = (time.perf_counter() - t0) * 1000
                timing = await page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0];"
                    " return [n.responseStart, n.domContentLoadedEventEnd]; }")
                rows = await page.locator("#queue-rows tr[data-task-id]").count()
                assert rows == 50, f"first page shows {rows} rows"
                await page.close()
                if i >= 2:  # the first two warm the gateway and the browser
                    samples.append(elapsed)
                    ttfb.append(timing[0])
                    dcl.append(timing[1])
            await browser.close()
    print(f"ui_queue_tasks_in_org: {args.tasks}")
    print(f"ui_queue_load_ms: {statistics.median(samples):.1f}")
    print(f"ui_queue_load_min_ms: {min(samples):.1f}")
    print(f"ui_queue_load_max_ms: {max(samples):.1f}")
    print(f"ui_queue_ttfb_ms: {statistics.median(ttfb):.1f}")
    print(f"ui_queue_dom_content_loaded_ms: {statistics.median(dcl):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
