"""`pledge dev` serves the API beside the worker; `pledge token` issues what it accepts."""

from __future__ import annotations

import re
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.support.dev import dev_environment_in, pledge, start_dev, start_pledge, stop_dev


def test_pledge_dev_serves_the_api_at_the_url_it_prints_and_a_case_opened_there_shows_in_the_cli(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data")
    created = pledge(
        environment,
        "token", "create", "--name", "crs", "--scope", "cases:write", "--scope", "cases:read",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    process, printed = start_dev(environment)
    try:
        match = re.search(r"web app: (http://127\.0\.0\.1:\d+)", printed)
        assert match, printed
        url = match.group(1)
        assert url.endswith(environment["PLEDGE_WEB_PORT"])
        body = {
            "reference": "01/777777/26",
            "category": "burglary",
            "reported_at": datetime.now(UTC).isoformat(),
            "borough": "Camden",
            "victim": {"name": "Alex Smith", "email": "alex@example.org"},
        }
        response = httpx.post(
            f"{url}/api/v1/cases",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        shown = pledge(environment, "case", "show", "01/777777/26", "--json")
        assert shown.returncode == 0, shown.stderr
        assert '"acknowledgement"' in shown.stdout
    finally:
        output = stop_dev(process)
    assert process.returncode == 0, output
    assert "stopped cleanly" in output


def test_token_commands_create_list_and_revoke_and_refuse_bad_input_in_one_line(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data")
    created = pledge(
        environment, "token", "create", "--name", "vfu", "--scope", "cases:read",
        "--borough", "Camden",
    )  # fmt: skip
    again = pledge(environment, "token", "create", "--name", "vfu", "--scope", "cases:read")
    bad_scope = pledge(environment, "token", "create", "--name", "x", "--scope", "cases:all")
    bad_borough = pledge(
        environment, "token", "create", "--name", "y", "--scope", "cases:read",
        "--borough", "Narnia",
    )  # fmt: skip
    listed = pledge(environment, "token", "list")
    revoked = pledge(environment, "token", "revoke", "vfu")
    unknown = pledge(environment, "token", "revoke", "nobody")

    assert created.returncode == 0 and created.stdout.startswith("pledge_")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert bad_scope.returncode == 1 and "accepted: cases:write" in bad_scope.stderr
    assert bad_borough.returncode == 1 and "Narnia" in bad_borough.stderr
    # Kept as the unit's canonical id, as cases are.
    assert "vfu" in listed.stdout and "camden" in listed.stdout
    assert " y " not in listed.stdout
    assert created.stdout.strip() not in listed.stdout
    assert revoked.returncode == 0
    assert unknown.returncode == 1 and "no token named" in unknown.stderr
    for result in (again, bad_scope, bad_borough, unknown):
        assert "Traceback" not in result.stderr


def test_pledge_web_starts_without_twilio_or_temporal_and_says_which_is_not_ready(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data")
    environment.pop("PLEDGE_TWILIO_AUTH_TOKEN", None)
    url = f"http://127.0.0.1:{environment['PLEDGE_WEB_PORT']}"
    process = start_pledge(environment, "web")
    try:
        healthy = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                healthy = httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert healthy is not None and healthy.status_code == 200
        ready = httpx.get(f"{url}/readyz", timeout=20)
        webhook = httpx.post(f"{url}/twilio/status", data={"MessageSid": "SM1"}, timeout=5)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert ready.status_code == 503
    assert "Temporal" in ready.json()["detail"]
    assert webhook.status_code == 404
    assert f"web app: {url}" in output
