"""What the README promises a newcomer: in `pledge dev`, a victim signs in with the code
that /dev/outbox shows."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.support.dev import case_open_args, dev_environment_in, pledge, start_dev, stop_dev

REFERENCE = "01/123456/26"


def test_a_newcomer_signs_in_as_a_victim_with_the_code_dev_outbox_shows(tmp_path: Path) -> None:
    environment = dev_environment_in(tmp_path / "data")
    process, _ = start_dev(environment)
    try:
        opened = pledge(environment, *case_open_args(REFERENCE))
        assert opened.returncode == 0, opened.stdout + opened.stderr
        base = f"http://127.0.0.1:{environment['PLEDGE_WEB_PORT']}"
        with httpx.Client(base_url=base, timeout=30) as http:
            asked = http.post("/track", data={"reference": REFERENCE})
            assert asked.status_code == 303 and asked.headers["location"] == "/track/code"
            code = None
            deadline = time.monotonic() + 30
            while code is None and time.monotonic() < deadline:
                found = re.search(r"code is (\d{6})", http.get("/dev/outbox").text)
                code = found.group(1) if found else None
                time.sleep(0.2)
            assert code is not None, "no code in /dev/outbox within 30s"
            signed_in = http.post("/track/code", data={"code": code})
            assert signed_in.headers["location"] == "/track/case"
            page = http.get("/track/case")
            assert page.status_code == 200 and REFERENCE in page.text
    finally:
        stop_dev(process)
