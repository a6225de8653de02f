"""The Korean edition (issue 37): every lesson's catalogue ``lightnets/book/locale/ko/LC_MESSAGES/
<lesson>.po`` against the notebook as it is now, the mapping from a markdown cell to its messages,
the Korean notebooks (generated, then run), and the Korean book, read as files and in Chromium.

A lesson whose translation is finished goes into TRANSLATED; from then on a change to its prose
that its catalogue does not follow (a new paragraph untranslated, a changed one fuzzy, a removed
one stale) fails here. lightnets/book/locale/TRANSLATING.md (for translators) says how to fill one.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lightnets import book
from lightnets.book import i18n

# The lessons whose Korean catalogue is complete. Add a lesson when its translation is done.

REPO = Path(__file__).resolve().parents[1]
LESSONS = [p.stem for p in book.reading_order()]
# Every lesson has its Korean edition; a new lesson needs one too before this passes.
TRANSLATED = set(LESSONS)
NOT_YET = "no Korean translation yet (issue 37)"
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*is deprecated. Check CHANGES for Sphinx API modifications")


def _notebook(page: str):
    return nbformat.read(REPO / "notebooks" / f"{page}.ipynb", as_version=4)


def _translated_only(page: str) -> None:
    if page not in TRANSLATED:
        pytest.skip(NOT_YET)


def _a_translated_lesson() -> str:
    if not TRANSLATED:
        pytest.skip("no lesson is translated yet (issue 37)")
    return sorted(TRANSLATED)[0]


# --- the catalogues -----------------------------------------------------------------------------

@pytest.mark.parametrize("page", LESSONS)
def test_catalogue_translates_every_message_none_fuzzy_or_stale(page):
    _translated_only(page)
    problems = i18n.check(_notebook(page), page)
    assert not problems, (f"{page}.po is not a complete translation of the notebook "
                          f"({len(problems)} problems; python -m lightnets.book "
                          "--update-catalogues, then translate):\n" + "\n".join(problems[:20]))


def test_the_check_catches_a_new_a_changed_and_a_removed_paragraph():
    """The completeness check is not vacuous: edit a translated lesson's prose three ways."""
    page = _a_translated_lesson()
    nb = _notebook(page)
    assert i18n.catalogue_problems(nb, page) == []
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and "\n\n" in c.source
                and not c.source.lstrip().startswith(("#", "-", "|", "$")))  # a plain paragraph
    first, rest = cell.source.split("\n\n", 1)
    cell.source = "A new paragraph that nobody translated.\n\n" + first + " Changed.\n\n" + rest
    nb.cells = [c for c in nb.cells if "## Glossary" not in c.source]  # a removed cell
    problems = "\n".join(i18n.catalogue_problems(nb, page))
    assert "missing (run --update-catalogues): 'A new paragraph" in problems
    assert "stale (no longer in the notebook)" in problems
    # the new paragraph and the changed one (long messages are shown abbreviated)
    assert problems.count("missing (run --update-catalogues)") == 2, problems


def test_the_check_catches_changed_math_code_and_links(monkeypatch):
    table = {"costs $D_K^2$ with `groups=M` ([paper](https://arxiv.org/abs/1704.04861))":
             "$D_K^3$ 비용, `groups=M` ([논문](https://arxiv.org/abs/1704.04861))",
             "uses `x`": "`y`를 씀", "a [link](#here)": "[링크](#there)",
             "keeps $a$ and `b`": "$a$와 `b`, 다시 `b`를 유지", "**bold** word": "**굵게 단어"}
    monkeypatch.setattr(i18n, "translations", lambda page, lang="ko": table)
    problems = "\n".join(i18n.markup_problems("x"))
    assert "'$D_K^2$'" in problems and "'`x`'" in problems and "'](#here)'" in problems
    assert "keeps" not in problems, "a code span may be named twice"
    assert "unpaired ** in the translation of '**bold** word'" in problems


def test_every_catalogue_is_valid_for_msgfmt():
    """GNU msgfmt (where installed) accepts every catalogue there is: no syntax error, no format
    error (a new lesson has none until --update-catalogues writes it)."""
    msgfmt = "/usr/bin/msgfmt"
    if not Path(msgfmt).exists():
        pytest.skip("msgfmt not installed (apt install gettext)")
    catalogues = sorted((i18n.LOCALE / "ko" / "LC_MESSAGES").glob("*.po"))
    assert {p.stem for p in catalogues} <= set(LESSONS), "a catalogue of no lesson"
    for path in catalogues:
        # i18n.msgfmt_problems's flags: header and domain, not the format codes Babel guesses
        result = subprocess.run([msgfmt, "--check-header", "--check-domain", "-o", "/dev/null",
                                 str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Sphinx's gettext templates of the book as the notebooks are now: page -> {cell: msgids}."""
    from babel.messages.pofile import read_po

    src = tmp_path_factory.mktemp("gettext") / "src"
    # In a fresh process, as `--update-catalogues` runs it: a Sphinx build earlier in this process
    # (the book's, for test_book.py) leaves global state behind that makes the gettext builder
    # extract display math as messages too (seen only when test_book.py ran first).
    script = ("import sys; from pathlib import Path; from lightnets import book; "
              "from lightnets.book import i18n; src = Path(sys.argv[1]); book.write_sources(src); "
              "print(i18n.message_templates(src))")
    result = subprocess.run([sys.executable, "-c", script, str(src)], capture_output=True,
                            text=True, check=True)
    pot = Path(result.stdout.strip().splitlines()[-1])
    by_page = {}
    for path in pot.glob("*.pot"):
        with path.open("rb") as f:
            catalogue = read_po(f)
        cells = {}
        for message in catalogue:
            for _, line in message.locations if message.id else []:
                # MyST-NB numbers the lines of cell i from (i + 1) * 10000.
                cells.setdefault(line // 10000 - 1, set()).add(message.id)
        by_page[path.stem] = cells
    by_page["_pot"] = path.parent
    return by_page


@pytest.mark.parametrize("page", LESSONS)
def test_every_message_of_the_lesson_maps_back_to_its_cell(page, templates):
    nb = _notebook(page)
    ours = {}
    for index, msgid in i18n.notebook_messages(nb):
        ours.setdefault(index, set()).add(msgid)
    assert ours == templates[page], "our cut of the markdown cells differs from Sphinx's"


def test_update_keeps_a_changed_messages_translation_as_fuzzy(templates, tmp_path, monkeypatch):
    """--update-catalogues on a lesson whose paragraph changed: the new text arrives with the old
    translation marked fuzzy (so the check fails until someone looks), the old text is dropped."""
    import shutil

    page = _a_translated_lesson()
    shutil.copytree(i18n.LOCALE, tmp_path / "locale")
    monkeypatch.setattr(i18n, "LOCALE", tmp_path / "locale")
    path = i18n.catalogue_path(page)
    catalogue = i18n.load_catalogue(page)
    message = next(m for m in catalogue if m.id and len(m.id) > 80)
    old_id, translation = message.id, message.string
    # As if the notebook had said something slightly different before: the catalogue has the
    # old sentence; the notebook (the template) the current one.
    text = path.read_text(encoding="utf-8")
    assert text.count(_po_quoted(old_id[:40])) == 1
    path.write_text(text.replace(_po_quoted(old_id[:40]), _po_quoted("Formerly, " + old_id[:40])),
                    encoding="utf-8")
    pot = tmp_path / "pot"
    pot.mkdir()
    shutil.copy(templates["_pot"] / f"{page}.pot", pot)
    assert i18n.update_catalogues(None, "ko", pot=pot) == {page: "updated"}
    updated = {m.id: m for m in i18n.load_catalogue(page) if m.id}
    assert updated[old_id].fuzzy and updated[old_id].string == translation
    assert not any(msgid.startswith("Formerly, ") for msgid in updated)
    problems = i18n.catalogue_problems(_notebook(page), page)
    assert problems == [f"fuzzy (check it, then delete the '#, fuzzy' line): {old_id[:70]!r}"]


def _po_quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


@pytest.mark.parametrize("page", LESSONS)
def test_each_message_is_replaced_where_it_stands(page):
    """Translate every cell with a marked copy of each message: the translated cell's messages
    are exactly the marked ones, in order, and everything between them is unchanged."""
    nb = _notebook(page)
    for cell in (c for c in nb.cells if c.cell_type == "markdown"):
        messages = i18n.cell_messages(cell.source)
        marked = {msgid: f"⟦{n}⟧ {msgid}" for n, (_, _, msgid) in enumerate(messages)}
        translated = i18n.translate_cell(cell.source, marked)
        assert [m for _, _, m in i18n.cell_messages(translated)] == \
            [marked[m] for _, _, m in messages]
        assert i18n.translate_cell(cell.source, {}) == cell.source


def test_a_list_item_over_several_lines_keeps_its_marker_and_the_math_block_stays():
    source = ("Intro line one\nline two.\n\n- **term**: a definition\n  that wraps.\n"
              "- second\n\n$$\nx = 1\n$$\n\n| a | b |\n|---|---|\n| c | d |")
    table = {"Intro line one line two.": "소개.", "**term**: a definition that wraps.":
             "**용어**: 정의.", "c": "ㄷ", "d": "ㄹ"}
    assert i18n.translate_cell(source, table) == (
        "소개.\n\n- **용어**: 정의.\n- second\n\n$$\nx = 1\n$$\n\n| a | b |\n|---|---|\n| ㄷ | ㄹ |")


def test_a_translation_that_starts_like_a_block_is_escaped_for_sphinx(tmp_path):
    """Sphinx parses each translation alone: "1. 데이터" would be a list, and a heading so
    translated would silently stay English; the book's copy of the catalogue escapes it."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    catalogue = Catalog(locale="ko")
    pairs = {"1. The data": "1. 데이터", "- a": "- 가", "# h": "# 머리", "**b** c": "**나** 다",
             "$x$ and": "$x$ 그리고", "12 seeds": "12개의 시드"}
    for msgid, msgstr in pairs.items():
        catalogue.add(msgid, msgstr)
    with (tmp_path / "x.po").open("wb") as f:
        write_po(f, catalogue)
    from io import BytesIO
    shown = {m.id: m.string for m in read_po(BytesIO(i18n.for_sphinx(tmp_path / "x.po"))) if m.id}
    assert shown == {"1. The data": "1\\. 데이터", "- a": "\\- 가", "# h": "\\# 머리",
                     "**b** c": "**나** 다", "$x$ and": "$x$ 그리고", "12 seeds": "12개의 시드"}


# --- the Korean notebooks -------------------------------------------------------------------------

def test_korean_notebooks_keep_code_and_outputs(tmp_path):
    paths = i18n.write_notebooks("ko", tmp_path, book.reading_order())
    assert [p.name for p in paths] == [f"{page}.ipynb" for page in LESSONS]
    for path in paths:
        english, korean = _notebook(path.stem), nbformat.read(path, as_version=4)
        assert len(korean.cells) == len(english.cells)
        for en_cell, ko_cell in zip(english.cells, korean.cells):
            assert ko_cell.cell_type == en_cell.cell_type
            if en_cell.cell_type == "code":
                assert ko_cell == en_cell, "code cells and their outputs are the English ones"
        if path.stem in TRANSLATED:
            assert korean.cells != english.cells
            text = "".join(c.source for c in korean.cells if c.cell_type == "markdown")
            assert len(re.findall(r"[가-힣]", text)) > 1000, "the prose is Korean"


def test_the_command_line_writes_korean_notebooks(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lightnets.book", "--lang", "ko",
                             "--notebooks", "--out", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in tmp_path.glob("*.ipynb")) == sorted(LESSONS)
    assert "jupyter lab" in result.stdout


def test_korean_notebook_of_lesson_11_runs_with_the_english_outputs(tmp_path):
    """Lesson 11 in Korean, re-executed and compared with its stored outputs (the English
    notebook's) by nbval, as every lesson is (it reads its files through the package, so it
    runs from any folder)."""
    lesson = REPO / "notebooks" / "11_tab_transformer.ipynb"
    (path,) = i18n.write_notebooks("ko", tmp_path, [lesson])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
         str(REPO / "tests" / "nbval_sanitize.cfg"), str(path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\d+ passed", result.stdout)


# --- the bilingual glossary -----------------------------------------------------------------------

@pytest.mark.parametrize("page", LESSONS)
def test_glossary_terms_file_names_every_term_of_a_translated_lesson(page):
    _translated_only(page)
    nb = _notebook(page)
    assert i18n.glossary_problems(nb, page) == []
    for english_term, korean, definition, done in i18n.translated_glossary(nb, page):
        assert done, f"{english_term}: its glossary entry is not translated"
        assert re.search(r"[가-힣]", definition), f"{english_term}: definition not in Korean"


def test_the_command_line_check_names_what_is_missing():
    result = subprocess.run([sys.executable, "-m", "lightnets.book", "--check", "00_tour"],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    if "00_tour" in TRANSLATED:
        assert result.returncode == 0, result.stdout
    else:
        assert result.returncode == 1 and "untranslated: '" in result.stdout, \
            result.stdout[-2000:]
        assert result.stdout.strip().endswith("problems")


def test_every_terms_file_is_a_lesson_and_valid_json():
    for path in (i18n.LOCALE / "ko" / "glossary").glob("*.json"):
        assert path.stem in LESSONS, f"{path.name} names no lesson"
        terms = json.loads(path.read_text(encoding="utf-8"))
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in terms.items())


# --- the Korean book ------------------------------------------------------------------------------

def test_korean_book_beside_the_english_one_with_a_switch_on_every_page(book_built):
    out, pages, _ = book_built
    for page in pages:
        korean = out / "ko" / page.name
        assert korean.is_file(), f"ko/{page.name} missing"
        en, ko = page.read_text(encoding="utf-8"), korean.read_text(encoding="utf-8")
        assert f'href="ko/{page.name}" hreflang="ko"' in en, f"{page.name}: no switch to Korean"
        assert f'href="../{page.name}" hreflang="en"' in ko, f"ko/{page.name}: no switch back"
        assert '<html lang="ko"' in ko
        loaded = re.findall(r'<(?:script|img|link|iframe)\b[^>]*?(?:src|href)="([^"]*)"', ko)
        assert not [u for u in loaded if re.match(r"(?:[a-z]+:)?//", u)], \
            f"ko/{page.name} loads from the network"


def test_korean_page_of_a_translated_lesson_shows_its_translation(book_built):
    out, _, _ = book_built
    for page in sorted(TRANSLATED):
        text = (out / "ko" / f"{page}.html").read_text(encoding="utf-8")
        table = i18n.translations(page)
        title = table[book.title_of(_notebook(page), page)]
        assert f"<h1>{title}" in text
        # No translation was dropped: no English message of plain words is left on the page
        # (Sphinx keeps the English where it cannot use a translation, and says nothing).
        import html as html_module

        prose = re.sub(r"<pre.*?</pre>", " ", text, flags=re.S)  # code and outputs stay English
        shown = re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", prose)))
        # A message whose translation is its own text (a table cell of numbers, "eq. 5 / eq. 2")
        # is the same in both languages and may stand as it is.
        left = [msgid for msgid, korean in table.items() if len(msgid.split()) >= 3
                and korean != msgid and not re.search(r"[$`*\[\\_]", msgid) and msgid in shown]
        assert not left, f"English left on the Korean page of {page}: {left[:3]}"
        # Figures and code are the English notebook's: the same files, the same count.
        english = (out / f"{page}.html").read_text(encoding="utf-8")
        assert re.findall(r'<img[^>]+src="([^"]+)"', text) == \
            re.findall(r'<img[^>]+src="([^"]+)"', english)
        code = re.findall(r'<div class="highlight-ipython3 notranslate">.*?</pre>', text, re.S)
        assert code == re.findall(r'<div class="highlight-ipython3 notranslate">.*?</pre>',
                                  english, re.S)
        glossary = (out / "ko" / "glossary.html").read_text(encoding="utf-8")
        terms = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<dt>(.*?)</dt>", glossary, re.S)]
        def words(term):  # a term's words, without math ($…$ or MathJax's \(…\)), code or spaces
            return re.sub(r"\$[^$]*\$|\\\(.*?\\\)|`|\s", "", term)

        for english, korean, _, _ in i18n.translated_glossary(_notebook(page), page):
            shown = [t for t in map(words, terms) if words(korean) in t]
            assert any(words(english) in t for t in shown), \
                f"the Korean glossary shows {korean!r} with {english!r}"


# --- in Chromium ----------------------------------------------------------------------------------

# Width of a string drawn in the page's font, against that of a code point no font has: equal
# widths mean the browser drew the Hangul as empty boxes (tofu).
TOFU = """(text) => {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = getComputedStyle(document.querySelector('article p')).font;
    const missing = String.fromCodePoint(0x10FFFD).repeat([...text].length);
    return [ctx.measureText(text).width, ctx.measureText(missing).width]; }"""


@pytest.mark.browser
def test_korean_lesson_11_renders_in_chromium(book_built):
    from test_book import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, RAW_TEX, _open

    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt install chromium)")
    from playwright.sync_api import sync_playwright

    out, _, _ = book_built
    page_name = "11_tab_transformer"
    _translated_only(page_name)
    title = i18n.translations(page_name)[book.title_of(_notebook(page_name), page_name)]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        outside = []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                   else (outside.append(r.request.url), r.abort()))
        try:
            _open(page, (out / "ko" / f"{page_name}.html").as_uri())
            assert page.locator("article h1").first.inner_text().strip().startswith(title)
            text = page.locator("article").inner_text()
            assert len(re.findall(r"[가-힣]", text)) > 1000, "the page shows Korean prose"
            hangul, missing = page.evaluate(TOFU, title)
            assert abs(hangul - missing) > 1, "Hangul is drawn as missing-glyph boxes"
            assert page.locator("mjx-merror").count() == 0
            assert not page.evaluate(RAW_TEX), "untypeset TeX in the Korean page"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "ko_11.png"))
            page.locator("a.lightnets-language").first.click()
            page.wait_for_load_state("load")
            assert page.url.endswith(f"/book/{page_name}.html"), page.url
            page.locator("a.lightnets-language").first.click()
            page.wait_for_load_state("load")
            assert page.url.endswith(f"/ko/{page_name}.html"), page.url
            _open(page, (out / "ko" / "glossary.html").as_uri())
            page.screenshot(path=str(ARTIFACTS / "ko_glossary.png"))
        finally:
            browser.close()
    assert outside == [], f"requests that would leave the machine: {outside}"
