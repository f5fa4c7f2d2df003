"""Headless Chromium for browser tests: the machine's own browser, driven by Playwright.

CI installs Debian's `chromium`; CHROMIUM_PATH points elsewhere when needed.
Screenshots go to ARTIFACTS_DIR (default `test-artifacts/` in the repository),
which CI keeps after the run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        raise RuntimeError(
            "browser tests need Chromium: `apt-get install chromium` (CI does) or set CHROMIUM_PATH"
        )
    return path


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    # Proxies must not see localhost traffic; the flags keep Chromium quiet in containers.
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--no-proxy-server"],
        )
        try:
            yield browser
        finally:
            browser.close()


def artifacts_dir() -> Path:
    directory = Path(os.environ.get("ARTIFACTS_DIR", REPO / "test-artifacts"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def screenshot(page: Page, name: str) -> Path:
    """Save the page as `<ARTIFACTS_DIR>/<name>.png` and return the path."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    path = artifacts_dir() / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
