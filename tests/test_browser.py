"""The HTML report in a real browser: Debian's headless Chromium, driven by Playwright, opening the file from disk.

Checks what a reader sees: one row per fragment, hostile input shown as text with
no dialog and no script run, right-to-left cells, no horizontal overflow, filters
that hide exactly their rows, "next non-English fragment" navigation, and a
20,000-fragment report that loads and scrolls (its timings go to tests/artifacts/,
never into an assertion).  Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from polyglot_pipe.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_0e5ec4742fbe5a91.txt"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]

VISIBLE_ROWS = "[...document.querySelectorAll('.pp-frag')].filter(r => getComputedStyle(r).display !== 'none')"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import (
        sync_playwright,  # pip install playwright; never `playwright install`
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Opened:
    """A report open in a fresh page, with everything the page tried to do on the side."""

    def __init__(self, browser, path: Path, viewport=(1280, 900)):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("request", lambda request: self.requests.append(request.url))
        # Runs before the page's own code (CSP does not apply to it): note any policy violation.
        self.page.add_init_script(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective));"
        )
        started = time.perf_counter()
        self.page.goto(path.as_uri(), wait_until="load")
        self.load_s = time.perf_counter() - started

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def cell_with(self, selector: str, text: str):
        """The ``selector`` element whose text holds ``text``, scrolled into view.

        Rows off screen are not rendered (content-visibility: auto), so their innerText,
        which Playwright's has_text reads, is empty until they are scrolled to.
        """
        found = self.page.evaluate(
            "([sel, text]) => { const e = [...document.querySelectorAll(sel)].find(e => e.textContent.includes(text));"
            " if (!e) return null; e.id = e.id || 'pp-test-' + Math.random().toString(36).slice(2);"
            " e.scrollIntoView(); return e.id; }",
            [selector, text],
        )
        assert found, f"no {selector} holds {text!r}"
        return self.page.locator(f"#{found}")

    def text(self, selector: str = "main") -> str:
        return self.page.evaluate("sel => document.querySelector(sel).textContent", selector)

    def visible_rows(self) -> int:
        return self.page.evaluate(f"{VISIBLE_ROWS}.length")

    def assert_quiet(self) -> None:
        """No dialog, no script error, no policy violation, nothing fetched but the file itself."""
        assert self.dialogs == []
        assert self.errors == []
        assert self.page.evaluate("window.__violations") == []
        assert [url for url in self.requests if not url.startswith("file://")] == []

    def screenshot(self, name: str, **kwargs) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), **kwargs)
        return path


def run_to(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "report.html"
    assert main(["run", *args, "--format", "html", "-o", str(out), "-q", "--packs-dir", str(tmp_path / "no-packs")]) == 0
    return out


# --- the seed ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed")
    results = folder / "seed.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)  # the document is named seeds/..., as when a user runs it from the repository
        assert main(["run", str(SEED.relative_to(ROOT)), "-o", str(results), "-q",
                     "--packs-dir", str(folder / "no-packs")]) == 0
    report = folder / "seed.html"
    assert main(["review", str(results), "-o", str(report)]) == 0
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    return report, records


def test_seed_report_shows_every_fragment_side_by_side(browser, seed_report):
    """Also takes the README's screenshot: docs/review.png is a copy of tests/artifacts/seed-report.png."""
    report, records = seed_report
    opened = Opened(browser, report, viewport=(1200, 760))
    page = opened.page
    assert page.locator(".pp-frag").count() == len(records)
    assert opened.visible_rows() == len(records)
    assert page.inner_text("#pp-shown") == f"{len(records)} of {len(records)} fragments shown"
    opened.screenshot("seed-report.png")  # the top: summary, filters, the first rows
    russian = opened.cell_with(".pp-frag", "Заголовок открываемого материала")
    assert russian.get_attribute("data-lang") == "ru"
    if russian.get_attribute("data-status") == "no-pack":
        assert "polyglot-pipe packs install ru" in russian.text_content()
        assert "polyglot-pipe packs install ru" in page.inner_text(".pp-missing")
    opened.assert_quiet()
    page.close()


def test_filters_hide_exactly_their_rows(browser, seed_report):
    report, records = seed_report
    opened = Opened(browser, report)
    page = opened.page
    english = sum(r["lang"] == "en" for r in records)
    page.locator('.pp-filter[data-filter="lang"] input[value="en"]').uncheck()
    assert opened.visible_rows() == len(records) - english
    assert page.evaluate(f"{VISIBLE_ROWS}.every(r => r.dataset.lang !== 'en')")
    assert page.inner_text("#pp-shown") == f"{len(records) - english} of {len(records)} fragments shown"
    page.locator('.pp-filter[data-filter="status"] input[value="ok"]').uncheck()
    expected = sum(r["lang"] != "en" and r["status"] != "ok" for r in records)
    assert opened.visible_rows() == expected
    opened.screenshot("seed-report-filtered.png")
    assert page.locator(".pp-doc").is_visible()
    for lang in {r["lang"] for r in records} - {"en"}:
        page.locator(f'.pp-filter[data-filter="lang"] input[value="{lang}"]').uncheck()
    assert opened.visible_rows() == 0
    assert not page.locator(".pp-doc").is_visible()  # a document with nothing shown folds away
    assert page.inner_text("#pp-shown") == f"0 of {len(records)} fragments shown"
    page.click('button[data-action="all"]')
    assert opened.visible_rows() == len(records)
    assert page.locator(".pp-doc").is_visible()
    opened.assert_quiet()
    page.close()


def test_next_non_english_on_the_seed_reaches_the_russian_line(browser, seed_report):
    report, records = seed_report
    opened = Opened(browser, report)
    russian = next(r for r in records if r["original"] == "Заголовок открываемого материала")
    foreign = [r for r in records if r["method"] != "source" and r["status"] != "empty"]
    for _ in range(foreign.index(russian) + 1):
        opened.page.keyboard.press("n")
    assert opened.page.evaluate("document.activeElement.id") == f"d1-{russian['index']}"
    assert opened.page.locator(f"#d1-{russian['index']}").is_visible()
    opened.assert_quiet()
    opened.page.close()


def test_next_non_english_visits_each_shown_foreign_fragment_in_order(browser, tmp_path):
    """Across documents and row blocks the browser has not drawn yet, skipping filtered rows, wrapping at the ends."""
    from polyglot_pipe.io.writers.html import write_html

    records = many_records(260)  # two documents, six blocks of rows
    report = tmp_path / "report.html"
    with report.open("w", encoding="utf-8") as out:
        write_html(records, out, None)
    opened = Opened(browser, report)
    page = opened.page
    page.locator('.pp-filter[data-filter="lang"] input[value="ar"]').uncheck()
    doc_numbers = {doc: n for n, doc in enumerate(dict.fromkeys(r["doc"] for r in records), 1)}
    expected = [f"d{doc_numbers[r['doc']]}-{r['index']}" for r in records if r["lang"] not in ("en", "ar")]
    visited = []
    for _ in expected:
        page.keyboard.press("n")
        visited.append(page.evaluate("document.activeElement.id"))
    assert visited == expected
    assert page.locator(f"#{expected[-1]}").is_visible()
    page.keyboard.press("n")  # past the last, back to the first
    assert page.evaluate("document.activeElement.id") == expected[0]
    page.keyboard.press("p")
    assert page.evaluate("document.activeElement.id") == expected[-1]
    page.keyboard.press("p")
    assert page.evaluate("document.activeElement.id") == expected[-2]
    assert "pp-current" in page.locator(f"#{expected[-2]}").get_attribute("class")
    # after scrolling by hand, "next" starts from what is on screen, not from the last jump
    middle = expected[len(expected) // 2]
    page.evaluate(f"document.getElementById('{middle}').scrollIntoView({{block: 'start'}})")
    page.evaluate("window.scrollBy(0, -2)")
    page.click('button[data-action="next"]')
    assert page.evaluate("document.activeElement.id") in expected[len(expected) // 2 - 1 : len(expected) // 2 + 2]
    opened.assert_quiet()
    page.close()


# --- hostile and hard text --------------------------------------------------------------------

HOSTILE_LINES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>window.__pwned = 1</script>",
    "<img src=x onerror=\"window.__pwned = 2\"> and <svg onload=alert(3)>",
]
ARABIC = "هذه جملة عربية طويلة لاختبار الاتجاه من اليمين إلى اليسار في التقرير."
HEBREW = "זהו משפט בעברית כדי לבדוק את הכיוון מימין לשמאל."
CHINESE = "这是一个很长的中文句子，用来测试中日韩文字在报告中是否能够正确换行，而不会撑破页面的布局。" * 6
LONG_TOKEN = "https://example.org/" + "x" * 3000


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    doc = folder / '"><img src=x onerror=alert(1)>.txt'
    doc.write_text("\n\n".join(["Some English first.", *HOSTILE_LINES, ARABIC, HEBREW, CHINESE, LONG_TOKEN]) + "\n",
                   encoding="utf-8")
    return run_to(folder, str(doc), "--no-translate"), doc


def test_hostile_input_is_shown_as_text_and_runs_nothing(browser, hostile_report):
    report, doc = hostile_report
    opened = Opened(browser, report)
    page = opened.page
    page.wait_for_timeout(300)  # give any (wrongly) injected handler a moment to fire
    shown = opened.text("main")
    for line in HOSTILE_LINES:
        assert line in shown
    assert str(doc) in opened.text(".pp-doc-title")
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('img, svg, iframe, object, embed').length") == 0
    assert page.evaluate("document.scripts.length") == 2  # the report's data block and its code
    assert page.evaluate("[...document.querySelectorAll('*')].every(e => ![...e.attributes].some(a => a.name.startsWith('on')))")
    opened.assert_quiet()
    page.close()


def test_right_to_left_cjk_and_long_strings_lay_out(browser, hostile_report):
    report, _ = hostile_report
    opened = Opened(browser, report, viewport=(1000, 800))
    page = opened.page
    arabic = opened.cell_with(".pp-orig", ARABIC[:20])
    assert arabic.get_attribute("dir") == "rtl"
    assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
    hebrew = opened.cell_with(".pp-orig", HEBREW[:10])
    assert hebrew.evaluate("e => getComputedStyle(e).direction") == "rtl"
    chinese = opened.cell_with(".pp-orig", CHINESE[:10])
    # wraps within its column: no overflow, and the sentence spans several line boxes
    assert chinese.evaluate("e => e.scrollWidth <= e.clientWidth && e.querySelector('.pp-text').getClientRects().length >= 2")
    # no string, however long, makes the page scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    long_cell = opened.cell_with(".pp-orig", "https://example.org/xxxx")
    assert long_cell.evaluate("e => e.scrollWidth <= e.clientWidth")
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky toolbar lands mid-picture
    opened.screenshot("hostile-report.png", full_page=True)
    opened.assert_quiet()
    page.close()


# --- 20,000 fragments ---------------------------------------------------------------------------


def many_records(n: int, seed: int = 6) -> list[dict]:
    rng = random.Random(seed)
    kinds = [
        ("en", "Latin", "ok", "The quick brown fox jumps over the lazy dog, number {i}."),
        ("ru", "Cyrillic", "ok", "Съешь же ещё этих мягких французских булок, номер {i}."),
        ("ar", "Arabic", "no-pack", "هذه جملة رقم {i} باللغة العربية."),
        ("zh", "Han", "failed", "这是第{i}个中文句子。"),
        ("de", "Latin", "skipped", "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich {i}."),
    ]
    records = []
    for i in range(n):
        lang, script, status, template = rng.choice(kinds)
        original = template.format(i=i)
        method = "source" if lang == "en" else ("argos:ru-en@1.0" if status == "ok" else "none")
        rec = {
            "doc": f"docs/{i // 200:03d}.txt", "index": i % 200, "start": 0, "end": len(original),
            "original": original, "repairs": [], "script": script, "lang": lang,
            "lang_confidence": round(rng.uniform(0.5, 1.0), 4),
            "english": original if lang == "en" else (f"Translation {i}." if status == "ok" else None),
            "method": method, "status": status, "space_after": "\n",
        }
        if status == "failed":
            rec["error"] = "model crashed"
        records.append(rec)
    return records


def test_a_20000_fragment_report_opens_and_scrolls(browser, tmp_path):
    from polyglot_pipe.io.writers.html import write_html

    records = many_records(20_000)
    report = tmp_path / "big.html"
    with report.open("w", encoding="utf-8") as out:
        write_html(records, out, None)
    opened = Opened(browser, report)
    page = opened.page
    assert page.locator(".pp-frag").count() == 20_000
    timings = {"html_bytes": report.stat().st_size, "load_s": round(opened.load_s, 3)}
    timings.update(page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        return {dom_content_loaded_ms: Math.round(nav.domContentLoadedEventEnd),
                first_contentful_paint_ms: paint ? Math.round(paint.startTime) : null};
    }"""))
    # Scroll through the whole page in 40 steps, one frame each; note the slowest frame.
    timings.update(page.evaluate("""async () => {
        const frame = () => new Promise(r => requestAnimationFrame(() => r()));
        const step = document.documentElement.scrollHeight / 40;
        let slowest = 0; const start = performance.now();
        for (let i = 1; i <= 40; i++) {
            const t = performance.now(); window.scrollTo(0, i * step); await frame(); await frame();
            slowest = Math.max(slowest, performance.now() - t);
        }
        return {scroll_40_steps_ms: Math.round(performance.now() - start), slowest_scroll_step_ms: Math.round(slowest)};
    }"""))
    last = page.locator(".pp-frag").last
    assert last.is_visible()  # the bottom was reached and the last row drawn
    # A filter, from the click to the second frame after it.
    timings["filter_ms"] = page.evaluate("""async () => {
        const frame = () => new Promise(r => requestAnimationFrame(() => r()));
        const t = performance.now();
        document.querySelector('.pp-filter[data-filter="lang"] input[value="en"]').click();
        await frame(); await frame();
        return Math.round(performance.now() - t);
    }""")
    assert opened.visible_rows() == sum(r["lang"] != "en" for r in records)
    page.evaluate("window.scrollTo(0, 0)")
    started = time.perf_counter()
    page.keyboard.press("n")
    focused = page.evaluate("document.activeElement.dataset.lang")
    timings["next_s"] = round(time.perf_counter() - started, 3)
    assert focused in {"ru", "ar", "zh", "de"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report-20k-timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    print("20,000-fragment report:", timings)
    opened.assert_quiet()
    page.close()
