"""A loud line in the summary when the browser tests were skipped.

`make test` on a machine without Chromium would otherwise end green, and a newcomer
would never learn that the report's charts went untested.
"""

from __future__ import annotations

from typing import Any

E2E_FOLDER = "tests/e2e/"
HOW_TO_ENABLE = (
    "install Chromium (apt-get install -y chromium, at /usr/bin/chromium) and the "
    "playwright package (make .venv/.installed), then run make test again"
)


def skipped_e2e_reasons(stats: dict[str, list[Any]]) -> list[str]:
    """The reasons given by skipped browser tests (or a skipped browser test module)."""
    reasons = []
    for report in stats.get("skipped", []):
        if not getattr(report, "nodeid", "").startswith(E2E_FOLDER):
            continue
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons.append(f"{report.nodeid}: {reason.removeprefix('Skipped: ')}")
    return reasons


def pytest_terminal_summary(terminalreporter: Any) -> None:
    reasons = skipped_e2e_reasons(terminalreporter.stats)
    if not reasons:
        return
    terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED: this run did not test them", red=True)
    for reason in reasons:
        terminalreporter.write_line(f"  {reason}", red=True)
    terminalreporter.write_line(f"  to run them: {HOW_TO_ENABLE}", bold=True)
