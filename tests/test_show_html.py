"""The side-by-side HTML view (``nabla show --html``), loaded in a real headless Chromium.

Debian's ``chromium`` and ``chromium-driver`` (``apt-get install chromium
chromium-driver``; ``.ci/run`` installs them where it can) driven by Selenium. The
browser tests are skipped, saying so, only where Chromium is not installed.
"""

import shutil
from pathlib import Path

import pytest

from nabla.show import main

HERE = Path(__file__).parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def test_the_page_links_generated_lines_to_primal_lines(tmp_path):
    out = tmp_path / "loop.html"
    target = f"{HERE / 'golden_functions.py'}:scalar_loop"
    assert main(["show", target, "--args", "np.ones(3), 4", "--html", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "http" not in page.split("<body>")[0]
    # the loop body's generated lines point at the loop body's primal line (line 31)
    primal_line = next(i for i, line in enumerate(
        (HERE / "golden_functions.py").read_text().splitlines(), 1)
        if "x = x - 0.01 * np.sin(x) * x" in line)
    assert f'id="p{primal_line}"' in page
    assert page.count(f'data-src="{primal_line}"') >= 4  # in the loop and in its adjoint
    for stage in ("canonical", "transformed", "optimized", "module"):
        assert f'data-stage="{stage}"' in page and f'id="s-{stage}"' in page


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("Chromium is not installed here (apt-get install chromium "
                    "chromium-driver): the page is not opened in a browser")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield driver
    driver.quit()


def test_clicking_a_derivative_line_highlights_its_primal_line(browser, tmp_path):
    out = tmp_path / "loop.html"
    target = f"{HERE / 'golden_functions.py'}:scalar_loop"
    assert main(["show", target, "--args", "np.ones(3), 4", "--html", str(out)]) == 0
    browser.get(out.as_uri())
    shot = tmp_path / "before.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    adjoint = [e for e in browser.find_elements("css selector", ".pane.on .d[data-src]")
               if "np.cos(x)" in e.text]
    assert adjoint, "the adjoint of the loop body is on the page"
    adjoint[0].click()
    line = adjoint[0].get_attribute("data-src")
    primal = browser.find_element("id", f"p{line}")
    assert "hl" in primal.get_attribute("class").split()
    assert primal.value_of_css_property("background-color") == "rgba(255, 236, 153, 1)"
    assert "x = x - 0.01 * np.sin(x) * x" in primal.text
    # the whole block from that line lights up, and nothing from other lines
    lit = browser.find_elements("css selector", ".pane.on .d.hl")
    assert len(lit) >= 2 and all(e.get_attribute("data-src") == line for e in lit)
    assert browser.save_screenshot(str(tmp_path / "clicked.png"))


def test_clicking_a_primal_line_and_switching_stages(browser, tmp_path):
    out = tmp_path / "norm.html"
    target = f"{HERE / 'golden_functions.py'}:scaled_norm"
    assert main(["show", target, "--argnums", "0,1", "--args", "np.ones(3), 2.0",
                 "--html", str(out)]) == 0
    browser.get(out.as_uri())
    rows = browser.find_elements("css selector", "#primal .p")
    rows[1].click()  # r = np.sqrt(np.sum(x * x))
    lit = browser.find_elements("css selector", ".pane.on .d.hl")
    assert lit and any("sqrt" in e.text for e in lit)
    browser.find_element("css selector", '.tab[data-stage="canonical"]').click()
    pane = browser.find_element("id", "s-canonical")
    assert pane.is_displayed() and not browser.find_element("id", "s-module").is_displayed()
    # the pinned primal line stays lit in the new stage, with its canonical lines
    lit = browser.find_elements("css selector", ".pane.on .d.hl")
    assert lit and all(e.get_attribute("data-src") == rows[1].get_attribute("data-line")
                       for e in lit)
