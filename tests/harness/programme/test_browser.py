"""report.html and the matrix page in a real browser (headless Chromium through selenium and
Debian's chromium-driver; .ci/run installs both): no console errors (so the matrix's script is
allowed by its hash and nothing tries to load), the tables, the verdict colours and the folded
evidence render and unfold on a click, the "only differences" and clause filters work, and a
390-px window still reads: the page body never scrolls sideways (only the matrix's own box
does) and the sticky heads stay in view. Page structure is checked through the DOM, never by
comparing pixels; each test keeps screenshots, written under $SMM_SCREENSHOT_DIR (default: a
pytest temporary directory, printed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.reporting.matrix import build_matrix
from harness.reporting.matrix import render_html as render_matrix
from harness.reporting.writers import render_html as render_report
from tests.harness.programme.reports import FAIL, HOSTILE, PASS, record

webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the dev extra)")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs headless Chromium and its driver (Debian: apt-get install chromium "
           "chromium-driver; .ci/run installs them)")

WIDE, NARROW = (1280, 900), (390, 844)
# The verdict colours of both pages' style sheets, as the browser computes them.
RED, GREEN, YELLOW = "rgb(246, 184, 184)", "rgb(220, 245, 220)", "rgb(255, 241, 194)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", f"--window-size={WIDE[0]},{WIDE[1]}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("SMM_SCREENSHOT_DIR")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def show(browser: Any, page: str, tmp_path: Path, size: tuple[int, int] = WIDE) -> None:
    """Load ``page`` from a file (as a reader opens a downloaded report) at ``size``."""
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    width, height = size
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(path.as_uri())
    assert browser.execute_script("return window.innerWidth") == width


def console_errors(browser: Any) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] in ("SEVERE", "ERROR")]


def keep(browser: Any, shots: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = shots / f"{name}.png"
    browser.get_screenshot_as_file(str(target))
    with capsys.disabled():
        print(f"\nscreenshot: {target}")


def overflows(browser: Any) -> bool:
    """The page itself scrolls sideways (wider than the window)."""
    return bool(browser.execute_script(
        "return document.documentElement.scrollWidth > window.innerWidth"))


def background(browser: Any, element: Any) -> str:
    return str(browser.execute_script(
        "return getComputedStyle(arguments[0]).backgroundColor", element))


def failing_report() -> dict[str, Any]:
    return record({"GEN-001": PASS, "BAL-001": FAIL, "GEN-003": FAIL},
                  url="https://panel.example/api/v2/" + "p" * 150, message=HOSTILE,
                  exchanges=["#1 POST key=<redacted>&action=balance&" + "z" * 400
                             + "\n-> HTTP 200 {" + "y" * 600 + "}"],
                  blocked={"ADD-003": "BAL-001", "CANCEL-001": "BAL-001"})


def three_panels() -> list[tuple[str, dict[str, Any]]]:
    base = {"GEN-001": PASS, "GEN-002": PASS, "ADD-001": PASS, "MONEY-001": PASS}
    return [
        ("reference", record(base)),
        ("smmhub", record(base | {"ADD-001": FAIL, "GEN-003": FAIL}, profile="smmhub",
                          message=HOSTILE, exchanges=[HOSTILE])),
        ("laravel", record(base | {"MONEY-001": FAIL}, profile="laravel")),
    ]


def no_alert(browser: Any) -> bool:
    try:
        browser.switch_to.alert  # noqa: B018  (the property raises when there is none)
    except NoAlertPresentException:
        return True
    return False


# ---------------------------------------------------------------------------------------------
# report.html


def test_report_html_renders_its_tables_colours_and_folded_evidence(
        browser: Any, tmp_path: Path, shots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = failing_report()
    show(browser, render_report(data), tmp_path)
    assert console_errors(browser) == []
    rows = browser.find_elements(By.CSS_SELECTOR, "table.clauses tbody tr")
    assert len(rows) == len(data["clauses"])
    failed = browser.find_element(By.CSS_SELECTOR, "table.clauses tr.fail")
    assert failed.find_element(By.CSS_SELECTOR, "td.id").text == "BAL-001"
    assert background(browser, failed.find_element(By.CSS_SELECTOR, "td.v")) == RED
    passed = browser.find_element(By.CSS_SELECTOR, "table.clauses tr.pass td.v")
    assert background(browser, passed) == GREEN
    assert background(browser, browser.find_element(By.CSS_SELECTOR, ".verdict.bad")) != \
        "rgba(0, 0, 0, 0)"
    # A failure's details are open; a passing clause's are folded until clicked.
    evidence = failed.find_element(By.CSS_SELECTOR, "pre")
    assert evidence.is_displayed()
    assert '<script>alert("evidence")</script>' in evidence.text  # shown as text
    folded = browser.find_element(By.CSS_SELECTOR, "table.clauses tr.pass details")
    text = folded.find_element(By.CSS_SELECTOR, "div.text")
    assert not text.is_displayed()
    folded.find_element(By.TAG_NAME, "summary").click()
    assert text.is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, "img, script") == []
    assert no_alert(browser)
    keep(browser, shots, "report-1280", capsys)


def test_report_html_still_reads_at_390_px(
        browser: Any, tmp_path: Path, shots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    show(browser, render_report(failing_report()), tmp_path, NARROW)
    assert console_errors(browser) == []
    assert not overflows(browser)
    heads = browser.find_elements(By.CSS_SELECTOR, "table.clauses thead th")
    assert [h.text for h in heads][:3] == ["clause", "level", "verdict"]
    assert all(h.is_displayed() and h.size["width"] > 0 for h in heads)
    # Every table stays inside the window, or scrolls inside its own box.
    assert browser.execute_script("""
        return [...document.querySelectorAll('table')].every(t => {
            const box = t.closest('.scroll') || t;
            return box.getBoundingClientRect().right <= window.innerWidth + 1;
        });""")
    keep(browser, shots, "report-390", capsys)


# ---------------------------------------------------------------------------------------------
# the matrix


VISIBLE_ROWS = """return [...document.querySelectorAll('tbody.area tr.clause')]
    .filter(row => row.offsetParent !== null).map(row => row.dataset.id);"""


def test_the_matrix_renders_without_console_errors_and_unfolds_evidence(
        browser: Any, tmp_path: Path, shots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = three_panels()
    show(browser, render_matrix(build_matrix(reports)), tmp_path)
    # No error: the inline script ran (its hash matches the page's CSP) and nothing loads.
    assert console_errors(browser) == []
    assert browser.find_element(By.ID, "filters").is_displayed()  # shown by the script
    heads = browser.find_elements(By.CSS_SELECTOR, "thead th.panel .label")
    assert [h.text for h in heads] == ["reference", "smmhub", "laravel"]
    rows = browser.execute_script(VISIBLE_ROWS)
    assert len(rows) == len(reports[0][1]["clauses"])
    row = browser.find_element(By.CSS_SELECTOR, 'tr.clause[data-id="ADD-001"]')
    cells = row.find_elements(By.CSS_SELECTOR, "td.cell")
    assert [c.get_attribute("data-verdict") for c in cells] == ["PASS", "FAIL", "PASS"]
    chips = [c.find_element(By.CSS_SELECTOR, ".chip") for c in cells]
    assert [background(browser, chip) for chip in chips] == [GREEN, RED, GREEN]
    assert chips[1].text.startswith("✗ FAIL")  # not colour alone
    nonstrict = browser.find_element(By.CSS_SELECTOR,
                                     'tr.clause[data-id="GEN-003"] td.nonstrict .chip')
    assert background(browser, nonstrict) == YELLOW
    # The failure's evidence is one click away, shown as text, over the table.
    evidence = cells[1].find_element(By.CSS_SELECTOR, ".evidence")
    assert not evidence.is_displayed()
    width_before = cells[1].size["width"]
    cells[1].find_element(By.TAG_NAME, "summary").click()
    assert evidence.is_displayed()
    assert '<script>alert("evidence")</script>' in evidence.text
    assert cells[1].size["width"] == width_before  # an overlay: the column did not widen
    assert browser.find_elements(By.CSS_SELECTOR, "img, b, tbody script") == []
    assert no_alert(browser)
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", row)
    keep(browser, shots, "matrix-1280-evidence", capsys)
    browser.find_element(By.TAG_NAME, "body").send_keys("\ue00c")  # Escape folds it again
    assert not evidence.is_displayed()


def test_the_only_differences_and_clause_filters_show_just_those_rows(
        browser: Any, tmp_path: Path, shots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = build_matrix(three_panels())
    show(browser, render_matrix(matrix), tmp_path)
    browser.find_element(By.CSS_SELECTOR, 'label[for="only-diff"]').click()
    assert browser.execute_script(VISIBLE_ROWS) == ["GEN-003", "ADD-001", "MONEY-001"]
    assert [r.id for r in matrix.differing] == ["GEN-003", "ADD-001", "MONEY-001"]
    areas = browser.find_elements(By.CSS_SELECTOR, "tbody.area")
    assert [a.get_attribute("data-area") for a in areas if a.is_displayed()] == \
        ["GEN", "ADD", "MONEY"]
    # Totals and column heads stay whatever the filter.
    assert browser.find_element(By.CSS_SELECTOR, "tbody.totals").is_displayed()
    keep(browser, shots, "matrix-1280-differences", capsys)
    box = browser.find_element(By.ID, "clause-filter")
    box.send_keys("add-")
    assert browser.execute_script(VISIBLE_ROWS) == ["ADD-001"]
    assert browser.find_element(By.ID, "shown").text == "showing 1 of " \
        f"{len(matrix.rows)} clauses"
    browser.find_element(By.CSS_SELECTOR, 'label[for="only-diff"]').click()
    visible = browser.execute_script(VISIBLE_ROWS)
    assert visible == [r.id for r in matrix.rows if r.id.startswith("ADD-")]
    box.clear()
    box.send_keys("refund")  # titles are searched too
    visible = browser.execute_script(VISIBLE_ROWS)
    assert visible
    assert all("refund" in r.title.lower() for r in matrix.rows if r.id in visible)


def test_the_matrix_reads_at_390_px_with_its_heads_in_view(
        browser: Any, tmp_path: Path, shots: Path, capsys: pytest.CaptureFixture[str]) -> None:
    panels = three_panels()
    reports = [(f"{label}-{n}", data) for n in range(4) for label, data in panels]  # 12 columns
    show(browser, render_matrix(build_matrix(reports)), tmp_path, NARROW)
    assert console_errors(browser) == []
    assert not overflows(browser)  # the page body does not scroll sideways ...
    grid = browser.find_element(By.CSS_SELECTOR, ".grid")
    assert browser.execute_script(  # ... the matrix's own box does
        "return arguments[0].scrollWidth > arguments[0].clientWidth", grid)
    assert grid.rect["x"] + grid.rect["width"] <= NARROW[0] + 1
    keep(browser, shots, "matrix-390", capsys)
    # Scrolled right and down inside its box, the clause column and the panel heads stay.
    clause = browser.find_element(By.CSS_SELECTOR, 'tr.clause[data-id="ADD-001"] th')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", clause)
    browser.execute_script("arguments[0].scrollLeft = 900", grid)
    box = browser.execute_script("return arguments[0].getBoundingClientRect()", grid)
    assert browser.execute_script("return arguments[0].scrollTop", grid) > 500
    head = browser.find_elements(By.CSS_SELECTOR, "thead th.panel")[5]
    corner = browser.find_element(By.CSS_SELECTOR, "thead th.corner")
    clause_box = browser.execute_script("return arguments[0].getBoundingClientRect()", clause)
    head_box = browser.execute_script("return arguments[0].getBoundingClientRect()", head)
    corner_box = browser.execute_script("return arguments[0].getBoundingClientRect()", corner)
    assert browser.execute_script("return arguments[0].scrollLeft", grid) > 0
    assert abs(clause_box["left"] - box["left"]) <= 2  # stuck to the left edge
    assert abs(corner_box["top"] - box["top"]) <= 2  # the heads stuck to the top edge
    assert abs(head_box["top"] - box["top"]) <= 2
    assert head_box["left"] < NARROW[0]  # a panel head in view beside the clause column
    assert browser.find_element(By.CSS_SELECTOR,
                                'tr.clause[data-id="ADD-001"] .cid').is_displayed()
    assert not overflows(browser)
    keep(browser, shots, "matrix-390-scrolled", capsys)
