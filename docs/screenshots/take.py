"""Take the README's screenshot(s) of a running tracker with demo data, in Debian's chromium.

    tracker demo --cases 300 --seed 7 --users --today 2026-12-01   # prints the demo password
    tracker run --port 5000 &
    python docs/screenshots/take.py --url http://127.0.0.1:5000 \
        --email lucia.nguyen@nordic-refugee-law.example.org --password '...'

Writes docs/screenshots/cases.png (the case list a coordinator sees, 1280 x 860 viewport).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(base_url=args.url, viewport={"width": 1280, "height": 860})
        page.goto("/login")
        page.get_by_label("E-mail").fill(args.email)
        page.get_by_label("Password").fill(args.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        page.goto("/cases/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(HERE / "cases.png"))
        browser.close()


if __name__ == "__main__":
    main()
