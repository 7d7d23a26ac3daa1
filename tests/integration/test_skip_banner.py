"""A run that skipped the browser tests says so loudly at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.skip_banner

pytest_plugins = ["pytester"]

SKIPPING_E2E_TEST = """
import pytest

def test_the_browser_draws_the_charts():
    pytest.skip("chromium not found at /usr/bin/chromium")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    # The hook's module itself, as the conftest of a small suite of its own.
    pytester.makeconftest(Path(tests.skip_banner.__file__).read_text(encoding="utf-8"))
    (pytester.path / "tests" / "e2e").mkdir(parents=True)
    return pytester


def test_a_skipped_browser_test_ends_the_run_with_a_banner_saying_how_to_enable_it(
    suite: pytest.Pytester,
) -> None:
    (suite.path / "tests" / "e2e" / "test_charts.py").write_text(SKIPPING_E2E_TEST)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*BROWSER TESTS SKIPPED*",
            "*tests/e2e/test_charts.py::test_the_browser_draws_the_charts: chromium not found*",
            "*apt-get install -y chromium*",
        ]
    )


def test_a_run_with_no_skipped_browser_test_has_no_banner(suite: pytest.Pytester) -> None:
    (suite.path / "tests" / "e2e" / "test_charts.py").write_text("def test_ok():\n    pass\n")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "BROWSER TESTS SKIPPED" not in result.stdout.str()
