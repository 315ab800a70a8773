"""`--format html-page` in a real browser (Debian's headless Chromium via Playwright, from disk).

The input is the mixed real page of tests/test_html.py (the aptitude manual's English
page with its Russian page inside a <div lang="ru">), plus what a hostile scraped
page carries: an inline script, an onerror handler, and markup-looking text.
What a reader sees in the output: the Russian part in the pack's English, the
English part exactly as in the original, and nothing of the page's code runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from polyglot_pipe.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]

HOSTILE = (
    "<script>alert('the page ran a script')</script>"
    '<img src="missing.png" onerror="alert(\'onerror ran\')">'
    '<p id="inert">&lt;script&gt;alert("text")&lt;/script&gt; is only text</p>'
)

# The English rest of the page, as the reader sees it (innerText without the Russian part).
ENGLISH_TEXT = "(() => { const b = document.body.cloneNode(true); b.querySelector('#russian').remove(); return b.innerText; })()"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import (
        sync_playwright,  # never `playwright install`: Debian's chromium
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, path: Path):
    dialogs: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));"
    )
    page.goto(path.as_uri(), wait_until="load")
    return page, dialogs


def test_the_translated_page_reads_in_english_and_runs_nothing(browser, tmp_path, ru_packs_dir):
    from test_html import mixed_page

    source = tmp_path / "mixed.html"
    source.write_text(mixed_page().replace("</body>", HOSTILE + "</body>"), encoding="utf-8")
    out = tmp_path / "translated.html"
    assert main(["run", str(source), "--format", "html-page", "-o", str(out),
                 "--packs-dir", str(ru_packs_dir), "--no-memory", "-q"]) == 0  # fmt: skip

    original, original_dialogs = open_page(browser, source)
    assert original_dialogs  # the input really is hostile: opened as it is, its code runs
    translated, dialogs = open_page(browser, out)
    try:
        assert dialogs == []  # ...in the translated page, neither the script nor the handler ran
        assert "script-src-elem" in translated.evaluate("window.__violations") or \
            "script-src" in translated.evaluate("window.__violations")  # fmt: skip
        assert translated.inner_text("#inert") == '<script>alert("text")</script> is only text'

        russian = translated.inner_text("#russian")
        cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in russian)
        before = sum("\u0400" <= ch <= "\u04ff" for ch in original.inner_text("#russian"))
        assert before > 1000 and cyrillic < 0.05 * before  # the Russian part now reads in (the pack's) English
        assert translated.evaluate(ENGLISH_TEXT) == original.evaluate(ENGLISH_TEXT)  # the rest, as it was
        assert translated.evaluate("document.images.length") == original.evaluate("document.images.length")
        assert translated.evaluate("[...document.links].map(a => a.href)") == original.evaluate("[...document.links].map(a => a.href)")
        assert translated.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        translated.locator("#russian").scroll_into_view_if_needed()
        translated.screenshot(path=str(ARTIFACTS / "html-page-translated.png"))
    finally:
        translated.close()
        original.close()
