"""The HTML report in real headless Chromium: charts render, nothing leaves the page."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from reporting.compliance import compliance_report, local_midnight
from reporting.render import render_html
from reporting.views import Names, report_views
from standards.force import load_force
from standards.policy import load_policy, policy_path
from tests.report_history import AS_OF, END, POLICIES, START, build_history
from tests.support.browser import CHROMIUM_ARGS, chromium_path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture
def report_html(sqlite_url: str, tmp_path: Path) -> Path:
    from storage.database import make_engine, make_session_factory

    engine = make_engine(sqlite_url)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    build_history(sessions)
    policy = load_policy(policy_path(POLICIES, "met-pledge"))
    names = Names.of(policy, load_force(POLICIES / "met.force.toml"))
    with sessions() as session:
        main = compliance_report(session, START, END, ("standard", "borough"), AS_OF)
        views = report_views(session, START, END, AS_OF, names)
    engine.dispose()
    path = tmp_path / "report.html"
    path.write_text(
        render_html(
            main,
            views,
            template_dir=TEMPLATES,
            titles=dict(names.standards),
            force_name="Test Force",
        ),
        encoding="utf-8",
    )
    return path


def test_the_html_report_draws_its_charts_offline_in_chromium(report_html: Path) -> None:
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report_html.as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("svg.chart")
            assert charts.count() == 4
            titles = [
                (charts.nth(i).locator("text.chart-title").text_content() or "") for i in range(4)
            ]
            assert titles == [
                "On-time rate by standard",
                "On-time rate by borough",
                "On-time rate by week, against the period before",
                "Breaches by reason (breached and met late)",
            ]
            # By display name, the worse first: Camden 1 of 3 on time, Hackney 2 of 5.
            boroughs = page.locator("#chart-boroughs text.label")
            assert [boroughs.nth(i).text_content() for i in range(2)] == ["Camden", "Hackney"]
            assert page.locator("#chart-boroughs circle.dot").count() == 2
            assert page.locator("#chart-boroughs line.target").count() >= 1
            for index in range(4):
                box = charts.nth(index).bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 30
            assert page.locator("#grid tbody tr").count() == 2
            assert "Nearest-rank" in page.locator("#definitions").inner_text() or (
                "nearest-rank" in page.locator("#definitions").inner_text()
            )
            assert page.locator("#figures tbody tr").count() >= 1
        finally:
            browser.close()
    # Only the file itself was loaded: no scripts, fonts or images from anywhere else.
    assert requests == [report_html.as_uri()]
    assert all(not url.startswith(("http:", "https:")) for url in requests)


def test_the_period_shown_is_the_london_period(report_html: Path) -> None:
    html = report_html.read_text(encoding="utf-8")
    # The SVG namespace is a name, never fetched; any other URL would be.
    html_without_namespace = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "2025-03-01 00:00 +00:00" in html and "2025-05-01 00:00 +01:00" in html
    assert "<script" not in html
    assert "http://" not in html_without_namespace and "https://" not in html
    assert local_midnight(date(2025, 3, 1)) == datetime(2025, 3, 1, tzinfo=UTC)
