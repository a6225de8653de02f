"""Translated editions of the book and the notebooks (issue 37): Sphinx's gettext catalogues, one
``.po`` per lesson, kept in git under ``lightnets/book/locale/<lang>/LC_MESSAGES/<lesson>.po``.

- ``python -m lightnets.book --update-catalogues`` refreshes every lesson's catalogue from the
  notebooks (Sphinx's gettext builder, then sphinx-intl): a new paragraph arrives untranslated, a
  changed one as *fuzzy* with its old translation, a removed one is dropped.
- ``python -m lightnets.book --out build/book`` builds the English book and, beside it in
  ``build/book/ko``, the Korean one: the same static notebooks, translated by Sphinx from the
  catalogues (code and outputs are the English notebooks' own); its landing page and its bilingual
  glossary are written here from ``locale/ko/book.json`` and ``locale/ko/glossary/<lesson>.json``.
- ``python -m lightnets.book --lang ko --notebooks`` writes Korean notebooks for JupyterLab: each
  markdown cell translated from the same catalogue, code cells and outputs unchanged.

A markdown cell is cut into messages exactly as Sphinx cuts it: the cell is parsed by MyST's own
docutils parser with the book's MyST settings, and the messages are Sphinx's
``extract_messages`` of that doctree (tests/test_korean.py checks that these are the catalogue's
messages, cell by cell, for every lesson). Each message's node knows its line in the cell, so its
text is replaced in place: list markers, indentation, math blocks and code spans around it stay.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCALE = HERE / "locale"
LANGUAGES = {"ko": "한국어"}
# The book's MyST settings (conf.py), as the docutils parser takes them.
MYST_SETTINGS = {
    "myst_enable_extensions": ["dollarmath", "amsmath", "deflist"],
    "myst_dmath_double_inline": True,
    "myst_heading_anchors": 2,
    "myst_heading_slug_func": "lightnets.book.slugs.jupyter_slug",
    "report_level": 5,
    "halt_level": 5,
}


def catalogue_path(page: str, lang: str = "ko") -> Path:
    """The git-kept catalogue of a page (a lesson's notebook stem)."""
    return LOCALE / lang / "LC_MESSAGES" / f"{page}.po"


def keep_math(doctree) -> None:
    """Display math is not prose: a ``$$`` block is shown as written in every language, so it is
    no message (Sphinx would otherwise ask for each formula to be copied into the catalogue).
    conf.py applies this before Sphinx translates or extracts; ``cell_messages`` does too."""
    from docutils import nodes

    for node in doctree.findall(nodes.math_block):
        node["translatable"] = False


def _parse(source: str):
    from docutils.core import publish_doctree
    from myst_parser.parsers.docutils_ import Parser

    doctree = publish_doctree(source, parser=Parser(), settings_overrides=MYST_SETTINGS)
    keep_math(doctree)
    return doctree


def cell_messages(source: str) -> list:
    """The messages of one markdown cell, in order, as (line in the cell from 0, raw source,
    msgid): the msgids are the ones Sphinx's gettext builder writes for this cell."""
    from sphinx.util.nodes import extract_messages

    found = []
    for node, msgid in extract_messages(_parse(source)):
        if node.line is None or not getattr(node, "rawsource", ""):
            raise ValueError(f"message {msgid[:60]!r} has no line or source in its cell")
        found.append((node.line - 1, node.rawsource, msgid))
    return found


def notebook_messages(nb) -> list:
    """(cell index, msgid) of every message of a notebook's markdown cells, in order."""
    return [(index, msgid) for index, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
            for _, _, msgid in cell_messages(cell.source)]


def translate_cell(source: str, translations: dict) -> str:
    """``source`` with each message that ``translations`` (msgid -> msgstr) has replaced by its
    translation where it stands; a message without one stays as written."""
    lines = source.split("\n")
    # Messages come in document order, so each is looked for after the previous one's end
    # (several share a line in a table row), and not before the line its node names: that line
    # is exact for paragraphs and headings, and at or before the cell for table cells (MyST gives
    # a cell the line of an earlier row).
    row, column = 0, 0
    drop = set()
    for line, raw, msgid in cell_messages(source):
        raw_lines = raw.split("\n")
        at, here = -1, max(row, line)
        while here < len(lines):
            at = lines[here].find(raw_lines[0], column if here == row else 0)
            if at >= 0:
                break
            here += 1
        if at >= 0 and len(raw_lines) > 1:
            # A paragraph over several lines: each of its lines ends a source line (after a
            # list's indentation or a quote's marker), its first one where it was found.
            body = lines[here:here + len(raw_lines)]
            if (len(body) < len(raw_lines) or lines[here].rstrip() != lines[here][:at]
                    + raw_lines[0].rstrip()
                    or not all(b.rstrip().endswith(r.rstrip()) for b, r in zip(body, raw_lines))):
                at = -1
        if at < 0:
            raise ValueError(f"cannot place the message {msgid[:60]!r} near line {line + 1} of "
                             "its cell")
        text = translations.get(msgid) or raw
        if text is not raw:
            text = " ".join(text.split("\n"))
        if len(raw_lines) > 1 and text is raw:
            row, column = here + len(raw_lines) - 1, len(lines[here + len(raw_lines) - 1])
            continue
        tail = lines[here][at + len(raw_lines[0]):] if len(raw_lines) == 1 else ""
        lines[here] = lines[here][:at] + text + tail
        row, column = here, at + len(text)
        drop.update(range(here + 1, here + len(raw_lines)))
    return "\n".join(text for index, text in enumerate(lines) if index not in drop)


def load_catalogue(page: str, lang: str = "ko"):
    """The babel catalogue of a page, or None where it has none."""
    from babel.messages.pofile import read_po

    path = catalogue_path(page, lang)
    if not path.is_file():
        return None
    with path.open("rb") as f:
        return read_po(f, abort_invalid=True)


# Text that opens a block in Markdown: a list item, a quote, a heading, a rule, a fence.
_BLOCK_START = re.compile(r"(\d{1,9})[.)](?=\s|$)|[-+*](?=\s|$)|>|#{1,6}(?=\s|$)|`{3}|~{3}")


def for_sphinx(path: Path) -> bytes:
    """The catalogue as the book's build reads it. Sphinx parses each translation as a document
    of its own, so a translated heading "1. 데이터" would become a list and be dropped without a
    word (the English heading stays): a translation that starts like a block is escaped
    ("1\\. 데이터"), which shows the same text."""
    from io import BytesIO

    from babel.messages.pofile import read_po, write_po

    with path.open("rb") as f:
        catalogue = read_po(f)
    for message in catalogue:
        if message.id and isinstance(message.string, str):
            match = _BLOCK_START.match(message.string)
            if match and match[1]:
                message.string = f"{match[1]}\\{message.string[len(match[1]):]}"
            elif match:
                message.string = "\\" + message.string
    buffer = BytesIO()
    write_po(buffer, catalogue, width=0)
    return buffer.getvalue()


def translations(page: str, lang: str = "ko") -> dict:
    """msgid -> msgstr of a page's catalogue: translated, not fuzzy, messages only (what Sphinx
    uses; a fuzzy one is shown in English until someone checks it)."""
    catalogue = load_catalogue(page, lang)
    if catalogue is None:
        return {}
    return {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}


def translate_notebook(nb, page: str, lang: str = "ko"):
    """A copy of ``nb`` whose markdown cells are translated; code cells, outputs and metadata are
    the notebook's own."""
    table = translations(page, lang)
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = translate_cell(cell.source, table)
    nb.metadata["lightnets_translation"] = {"lang": lang, "from": f"{page}.ipynb"}
    return nb


def write_notebooks(lang: str, out: Path, notebooks: list) -> list:
    """Write the translated notebooks into ``out``; returns their paths."""
    import nbformat

    from lightnets._io import atomic_write

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = translate_notebook(nbformat.read(path, as_version=4), path.stem, lang)
        target = out / path.name
        data = (nbformat.writes(nb) + "\n").encode("utf-8")
        atomic_write(target, lambda f, data=data: f.write(data))
        written.append(target)
    return written



def catalogue_problems(nb, page: str, lang: str = "ko") -> list:
    """What keeps a lesson's catalogue from being a complete translation of the notebook as it is
    now: messages missing from it, untranslated, fuzzy, or stale (no longer in the notebook)."""
    catalogue = load_catalogue(page, lang)
    if catalogue is None:
        return [f"{catalogue_path(page, lang).relative_to(HERE.parents[1])} does not exist"]
    wanted = {msgid for _, msgid in notebook_messages(nb)}
    problems = []
    have = {m.id: m for m in catalogue if m.id}
    for msgid in sorted(wanted - set(have)):
        problems.append(f"missing (run --update-catalogues): {msgid[:70]!r}")
    for msgid, message in have.items():
        if msgid not in wanted:
            problems.append(f"stale (no longer in the notebook): {msgid[:70]!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy (check it, then delete the '#, fuzzy' line): {msgid[:70]!r}")
        elif not message.string:
            problems.append(f"untranslated: {msgid[:70]!r}")
    problems += [f"obsolete entry (delete it): {m.id[:70]!r}"
                 for m in catalogue.obsolete.values()]
    return problems



def message_templates(src: Path) -> Path:
    """Run Sphinx's gettext builder over the book's sources in ``src`` (already written): one
    ``.pot`` per page in ``src/.gettext``, which it returns."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    pot = src / ".gettext"
    with docutils_namespace():
        app = Sphinx(str(src), str(src), str(pot), str(src / ".doctrees-gettext"), "gettext",
                     status=None, warning=None, freshenv=True)
        app.build()
    return pot


def update_catalogues(src: Path | None, lang: str = "ko", pages: list | None = None,
                      pot: Path | None = None) -> dict:
    """Sphinx's gettext builder over the book's sources in ``src`` (already written), then
    sphinx-intl's update of each page in ``pages`` (default: all): returns {page: 'created' |
    'updated' | 'unchanged'}. A changed message keeps its old translation, marked fuzzy; a
    removed one is dropped (no obsolete entries). ``pot``: templates already made (then ``src``
    is not read)."""
    from sphinx_intl.basic import update

    pot = pot or message_templates(src)
    for path in pot.glob("*.pot"):
        # The landing page and the glossary are written in each language from data
        # (book.json, glossary/<lesson>.json), so that translators of different lessons never
        # edit the same file.
        if pages is not None and path.stem not in pages:
            path.unlink()
    before = {p.stem: p.read_bytes() for p in (LOCALE / lang / "LC_MESSAGES").glob("*.po")}
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # sphinx-intl's own line per file
        update(str(LOCALE), str(pot), (lang,), line_width=100, ignore_obsolete=True, jobs=1)
    status = {}
    for template in sorted(pot.glob("*.pot")):
        path = LOCALE / lang / "LC_MESSAGES" / f"{template.stem}.po"
        old = before.get(path.stem)
        status[path.stem] = ("created" if old is None else
                             "unchanged" if old == path.read_bytes() else "updated")
    return status



def strings(lang: str) -> dict:
    """The words of the pages that the book writes itself (landing page, glossary, widget notes)
    in ``lang``: ``locale/<lang>/book.json``."""
    return json.loads((LOCALE / lang / "book.json").read_text(encoding="utf-8"))


def terms(page: str, lang: str = "ko") -> dict:
    """The lesson's glossary terms, English -> ``lang``: ``locale/<lang>/glossary/<page>.json``
    (empty where the lesson has none yet)."""
    path = LOCALE / lang / "glossary" / f"{page}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def plain_term(term: str) -> str:
    """A glossary entry's term as the terms file keys it: without its bold markers."""
    return term.replace("**", "").strip()


def translated_glossary(nb, page: str, lang: str = "ko") -> list:
    """(English term, translated term or None, definition, translated?) of each of a lesson's
    glossary entries: the translated definition is the catalogue's translation of the entry."""
    from lightnets.book._glossary import glossary_entries, split_glossary_entry

    table = translations(page, lang)
    named = terms(page, lang)
    rows = []
    for entry in glossary_entries(nb, page):
        term, definition = split_glossary_entry(entry, page)
        english = plain_term(term)
        text = table.get(entry)
        if text and english in named:
            _, translated = split_glossary_entry(" ".join(text.split("\n")), page)
            rows.append((english, named[english], translated, True))
        else:
            rows.append((english, None, definition, False))
    return rows


def glossary_problems(nb, page: str, lang: str = "ko") -> list:
    """What keeps a translated lesson's glossary from the bilingual glossary: the terms file must
    name exactly the lesson's terms, and each translated entry must use the file's term."""
    from lightnets.book._glossary import glossary_entries, split_glossary_entry

    named = terms(page, lang)
    table = translations(page, lang)
    english = [plain_term(split_glossary_entry(e, page)[0]) for e in glossary_entries(nb, page)]
    where = f"locale/{lang}/glossary/{page}.json"
    problems = [f"{where} lacks the term {t!r}" for t in english if t not in named]
    problems += [f"{where} names {t!r}, which is not in the lesson's glossary"
                 for t in named if t not in english]
    for entry, term in zip(glossary_entries(nb, page), english):
        text = table.get(entry)
        if text and term in named and named[term] not in text:
            problems.append(f"the translation of the glossary entry {term!r} does not use the "
                            f"terms file's {named[term]!r}")
    return problems


# What a translation keeps character for character: inline and display math, code spans, link
# targets.
_KEPT = re.compile(r"\$\$.+?\$\$|\$[^$]+\$|`[^`]+`|\]\([^)]*\)")


def markup_problems(page: str, lang: str = "ko") -> list:
    """Translations that changed what must stay as written (math, code spans, link targets) or
    left a bold marker unpaired."""
    problems = []
    for msgid, text in translations(page, lang).items():
        # Compared as sets: Korean word order may name a code span twice.
        kept, now = set(_KEPT.findall(msgid)), set(_KEPT.findall(text))
        if kept != now:
            changed = sorted(kept ^ now)
            problems.append(f"math, code or link changed ({changed[:2]}): {msgid[:50]!r}")
        # Bold markers outside code spans and math (``1.2 ** phi`` is Python's power, ``**config``
        # a keyword splat).
        if re.sub(r"`[^`]*`|\$[^$]*\$", "", text).count("**") % 2:
            problems.append(f"unpaired ** in the translation of {msgid[:50]!r}")
    return problems


def msgfmt_problems(page: str, lang: str = "ko") -> list:
    """GNU msgfmt's complaints about a catalogue (none where msgfmt is not installed)."""
    import shutil
    import subprocess

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return []
    # Not --check-format: Babel marks prose such as "95% of" python-format (it reads "% o" as a
    # code) on every refresh, and a Korean sentence cannot repeat the codes; no message here is
    # ever used as a format string.
    result = subprocess.run([msgfmt, "--check-header", "--check-domain", "-o", "/dev/null",
                             str(catalogue_path(page, lang))], capture_output=True, text=True)
    return [] if result.returncode == 0 else [f"msgfmt: {line}"
                                              for line in result.stderr.splitlines()]


def check(nb, page: str, lang: str = "ko") -> list:
    """Everything tests/test_korean.py asks of a finished lesson's translation, as a list of
    problems (empty when the lesson is done): ``python -m lightnets.book --check PAGE``."""
    problems = msgfmt_problems(page, lang) + catalogue_problems(nb, page, lang)
    problems += markup_problems(page, lang)
    if not problems:
        problems += glossary_problems(nb, page, lang)
        translate_notebook(nb, page, lang)  # every translation can be placed in its cell
    return problems


def sort_key(term: str) -> str:
    return re.sub(r"[*$\\{}()`]", "", term).strip().lower()


def glossary_page(lessons: list, lang: str) -> str:
    """The glossary page in ``lang``: both terms of every translated entry, sorted in the
    translated term's order. ``lessons``: (page, nb)."""
    words = strings(lang)
    rows = []
    for page, nb in lessons:
        number = page.split("_")[0]
        link = f"[{words['lesson'].format(number=number)}]({page}.ipynb#Glossary)"
        for english, translated, definition, done in translated_glossary(nb, page, lang):
            shown = english if not done or translated == english else f"{translated} ({english})"
            note = "" if done else f" {words['untranslated']}"
            rows.append((sort_key(translated or english), shown, f"{definition}{note} ({link})"))
    lines = [f"# {words['glossary_title']}", "", words["glossary_intro"], ""]
    for _, term, definition in sorted(rows):
        lines += [term, f": {definition}", ""]
    return "\n".join(lines)


def landing_page(lessons: list, lang: str) -> str:
    """The landing page in ``lang``: the introduction, each lesson under its translated title,
    and the toctree. ``lessons``: (page, English title)."""
    words = strings(lang)
    lines = [f"# {words['title']}", "", *words["intro"], ""]
    for page, title in lessons:
        translated = translations(page, lang).get(title)
        lines.append(f"- [{translated or title}]({page}.ipynb)"
                     + ("" if translated else f" {words['untranslated']}"))
    lines += ["", words["glossary_line"].format(link="glossary.md"), "",
              "```{toctree}", ":hidden:", f":caption: {words['lessons_caption']}", ""]
    lines += [page for page, _ in lessons]
    lines += ["```", "", "```{toctree}", ":hidden:", f":caption: {words['reference_caption']}", "",
              "glossary", "```", ""]
    return "\n".join(lines)
