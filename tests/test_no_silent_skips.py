"""Under CI (the `CI` environment variable set) a missing tool fails the test; elsewhere it
skips. Each case runs pytest in a subprocess with the environment it is about."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

pytestmark = pytest.mark.timeout(120)


def pytest_env(path: Path, *, ci: str | None, **extra: str) -> dict[str, str]:
    """This process's environment without pytest's or xdist's own variables, with `CI`
    set to `ci` (left out when None) and `extra` on top."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "CI" and not k.startswith(("PYTEST_", "PYTHONPATH"))
    }
    env["PATH"] = str(path)
    if ci is not None:
        env["CI"] = ci
    env.update(extra)
    return env


def summary(out: str) -> str:
    """pytest's last line without its ='s: "1 failed, 2 skipped in 3.21s"."""
    return out.strip().splitlines()[-1].strip("= ")


def run_pytest(*args: str, env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rfEs", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=100,
    )


@pytest.fixture
def no_tools(tmp_path: Path) -> Path:
    """An empty folder to be the whole PATH: no chromium, no pdftotext, nothing."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return empty


def test_without_chromium_the_browser_test_fails_under_ci(no_tools):
    env = pytest_env(no_tools, ci="true")
    done = run_pytest("-n", "0", "tests/test_html_in_browser.py", env=env)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # 1: tests failed (not 0, and not an internal error)
    # all three browser tests: the script one, and the fit test at 390 and 1000 px
    assert summary(out).startswith("3 failed in") and "skipped" not in out, out
    assert "chromium or chromium-browser is not installed" in out, out


def test_without_chromium_the_browser_test_skips_outside_ci(no_tools):
    done = run_pytest("-n", "0", "tests/test_html_in_browser.py", env=pytest_env(no_tools, ci=None))
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert summary(out).startswith("3 skipped in") and "FAILED" not in out, out
    assert "chromium or chromium-browser is not installed" in out, out


@pytest.mark.parametrize(
    "value,ci",
    [(None, False), ("", False), ("0", False), ("false", False), ("No", False), (" off ", False)]
    + [("true", True), ("1", True), ("yes", True), ("TRUE", True), ("github", True)],
)
def test_ci_is_any_value_but_a_false_word(monkeypatch, value, ci):
    from ci_tools import in_ci

    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert in_ci() is ci


MODULE_SKIP = (
    'import pytest\npytest.importorskip("no_such_module_anywhere")\n\n\ndef test_a():\n    pass\n'
)
TEST_SKIPS = textwrap.dedent(
    """\
    import pytest

    @pytest.fixture
    def tool():
        pytest.skip("no tool")

    @pytest.mark.skipif(True, reason="marked")
    def test_marked():
        pass

    def test_skips_itself():
        pytest.skip("not today")

    def test_needs_tool(tool):
        pass

    @pytest.mark.xfail(reason="an expected failure is not a skip")
    def test_xfail():
        assert False
    """
)


def run_with_suite_conftest(folder: Path, text: str, ci: str | None):
    """pytest over one test file holding `text`, outside the suite but with the suite's
    conftest as a plugin (no ini file, so none of the suite's addopts)."""
    (folder / "test_it.py").write_text(text, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = pytest_env(Path(sys.executable).parent, ci=ci, PYTHONPATH=str(TESTS))
    done = run_pytest("-p", "conftest", "test_it.py", env=env, cwd=folder)
    return done.returncode, done.stdout + done.stderr


def test_under_ci_every_kind_of_skip_fails_but_xfail_stays(tmp_path):
    code, out = run_with_suite_conftest(tmp_path, TEST_SKIPS, "1")
    assert code == 1, out
    # a skip in the test fails it; one at setup (a skipif mark, a fixture) is an error
    assert summary(out).startswith("1 failed, 1 xfailed, 2 errors in"), out
    for reason in ("marked", "not today", "no tool"):
        assert f"skipped in CI, which counts as a failure (CI=1): {reason}" in out, out


def test_outside_ci_the_same_skips_skip(tmp_path):
    code, out = run_with_suite_conftest(tmp_path, TEST_SKIPS, None)
    assert code == 0, out
    assert summary(out).startswith("3 skipped, 1 xfailed in"), out


def test_under_ci_a_module_skipping_itself_on_import_is_an_error(tmp_path):
    code, out = run_with_suite_conftest(tmp_path, MODULE_SKIP, "yes")
    assert code == 2, out  # 2: interrupted, the collection failed
    assert re.fullmatch(r"(Interrupted: )?1 error(s)? in .*", summary(out)), out
    assert "skipped in CI" in out and "no_such_module_anywhere" in out, out


def test_outside_ci_a_module_skipping_itself_skips(tmp_path):
    code, out = run_with_suite_conftest(tmp_path, MODULE_SKIP, "off")
    assert code == 5, out  # 5: no test ran (the module was skipped)
    assert summary(out).startswith("1 skipped in"), out
