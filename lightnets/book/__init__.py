"""The book of every lesson: Sphinx with MyST-NB and sphinx-book-theme, built from the notebooks'
stored outputs (nothing is re-executed), in the README's reading order.

    python -m lightnets.book --out build/book

writes ``build/book/index.html``: a landing page, one page per lesson, and a glossary gathering
every lesson's glossary, with a sidebar table of contents, previous/next links and full-text
search (Sphinx's ``searchindex.js``, which also works from ``file://``). Math is typeset by a
copy of MathJax 3 from the ``django-static-mathjax`` wheel (in requirements.txt), of which only
the files a page loads are copied, so the book reads offline and loads nothing from the network.

The Sphinx sources are generated next to the output (``build/book-src`` for ``build/book``), not
kept in git: copies of the notebooks, made static (each widget view becomes a short note with the
widget's readout and the static figure the notebook draws for it; hidden solution cells are
collapsed), the landing page, the glossary and ``conf.py``, which is copied from this package
along with its ``_static`` folder.
"""
from __future__ import annotations

import argparse
import copy
import importlib.util
import re
import sys
import time
from pathlib import Path

from lightnets._io import atomic_write
from lightnets.book._glossary import (GLOSSARY_HEADING, glossary, glossary_entries,  # noqa: F401
                                      split_glossary_entry)

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
GLOSSARY_PAGE = "glossary"
# The parts of MathJax 3 that the pages load: the combined TeX-to-CommonHTML component, its web
# fonts, and the TeX extensions that its autoload pulls in when a formula needs one.
MATHJAX_FILES = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")
NOTE_CLASS = "lightnets-widget-note"
LANGUAGE_NAMES = {"ko": "Korean"}


def reading_order(readme: Path = ROOT / "README.md", notebooks: Path = ROOT / "notebooks") -> list:
    """The notebooks in the order the README's table lists them; any it does not list go last."""
    listed = re.findall(r"\(notebooks/([^)]+\.ipynb)\)", readme.read_text(encoding="utf-8"))
    present = sorted(p.name for p in notebooks.glob("*.ipynb"))
    order = [name for name in dict.fromkeys(listed) if name in present]
    return [notebooks / name for name in order + [n for n in present if n not in order]]


def descriptions(readme: Path = ROOT / "README.md") -> dict:
    """notebook file name -> its "what it teaches" cell in the README's table of notebooks."""
    rows = re.findall(r"^\| \[`[^`]+`\]\(notebooks/([^)]+\.ipynb)\) \| (.+) \|$",
                      readme.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return dict(rows)


def title_of(nb, fallback: str) -> str:
    """The notebook's first level-1 heading (the page title Sphinx will use too)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _html_output(text: str):
    """A display output of ``text`` (HTML), with its words as plain text for the builders that
    show no HTML (Sphinx's gettext builder, which a translated edition starts from)."""
    from nbformat import from_dict

    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()
    return from_dict({"output_type": "display_data", "metadata": {},
                      "data": {"text/html": text, "text/plain": plain}})


def _is_figure(output) -> bool:
    return "image/png" in output.get("data", {})


def _readouts(nb, model_id: str) -> list:
    """The HTML readouts of a widget at the values the notebook stored it with, in the order the
    widget lays them out (its ``children``, depth first)."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    found, stack = [], [model_id]
    while stack:
        model = state.get(stack.pop(0), {})
        if model.get("model_name") == "HTMLModel":
            found.append(model["state"].get("value", ""))
        children = model.get("state", {}).get("children", [])
        stack[:0] = [c.removeprefix("IPY_MODEL_") for c in children if isinstance(c, str)]
    return found


def widget_note(readouts: list, lang: str = "en") -> str:
    """The note that stands where a widget stands, with its readout at the default values."""
    shown = "".join(f'<div class="lightnets-widget-readout">{r}</div>' for r in readouts)
    if lang != "en":
        from lightnets.book import i18n

        words = i18n.strings(lang)
        text = (words["widget_note"] + (words["widget_note_readout"] if readouts else "")
                + words["widget_note_end"])
        return f'<div class="{NOTE_CLASS}"><p><em>{text}</em></p>{shown}</div>'
    return (f'<div class="{NOTE_CLASS}"><p><em>Sliders stand here when the notebook runs in '
            "JupyterLab. Below: what they show at their default values, "
            + ("the readout and " if readouts else "")
            + "the static figure that a later cell of this lesson draws.</em></p>"
            + shown + "</div>")


MOVED_NOTE = ('<p class="lightnets-moved-figure"><em>This cell\'s figure is shown above, where '
              "the sliders stand.</em></p>")


def moved_note(lang: str = "en") -> str:
    if lang == "en":
        return MOVED_NOTE
    from lightnets.book import i18n

    return f'<p class="lightnets-moved-figure"><em>{i18n.strings(lang)["moved_note"]}</em></p>'


def static_notebook(nb, name: str = "notebook", lang: str = "en"):
    """A copy of ``nb`` for the book, without live widgets: each widget view becomes a note with
    the widget's stored readout, followed by the static figure that the notebook draws for it
    (the first figure in the code cells after the widget, before the next text cell; the cell
    that draws it keeps a pointer). Widget state is dropped (its renderer would come from a CDN),
    and cells collapsed in JupyterLab (the solutions) are collapsed in the book too."""
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
        if cell.cell_type != "code":
            continue
        shown = []
        for output in cell.outputs:
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                shown.append(output)
                continue
            figure = None
            for later in nb.cells[index + 1:]:
                if later.cell_type != "code":
                    break
                figure = next((o for o in later.outputs if _is_figure(o)), None)
                if figure is not None:
                    later.outputs[later.outputs.index(figure)] = _html_output(moved_note(lang))
                    break
            if figure is None:
                raise ValueError(f"{name}: the widget in cell {index} has no static figure in the "
                                 "code cells after it; draw one at the widget's default values")
            shown += [_html_output(widget_note(_readouts(nb, view["model_id"]), lang)), figure]
        cell.outputs = shown
    nb.metadata.pop("widgets", None)
    return nb


def _sort_key(term: str) -> str:
    return re.sub(r"[*$\\{}()]", "", term).strip().lower()


def glossary_page(lessons: list) -> str:
    """The glossary page (MyST markdown): every lesson's entries, alphabetical, each pointing to
    the lesson that teaches it. ``lessons`` holds (page name, title, entries)."""
    rows = []
    for page, title, entries in lessons:
        number = page.split("_")[0]
        for term, definition in entries:
            rows.append((_sort_key(term), term.replace("**", ""), definition,
                         f"[lesson {number}]({page}.ipynb#Glossary)"))
    lines = ["# Glossary", "",
             "Every lesson ends with a glossary of the terms it teaches; here they are together, "
             "in alphabetical order. A term taught in two lessons appears twice, each definition "
             "linked to its lesson.", ""]
    for _, term, definition, link in sorted(rows):
        lines += [term, f": {definition} ({link})", ""]
    return "\n".join(lines)


def landing_page(lessons: list, readme: Path = ROOT / "README.md") -> str:
    """The book's index (MyST markdown): the README's introduction and its table of lessons, and
    the toctree that orders the sidebar and the previous/next links."""
    text = readme.read_text(encoding="utf-8")
    intro = re.search(r"^lightnets is .+?(?=\n\n)", text, flags=re.MULTILINE | re.DOTALL)
    about = descriptions(readme)
    lines = ["# lightnets: lightweight CNNs from the papers", "",
             intro[0].replace("\n", " ") if intro else "", "",
             "This book shows every lesson with the outputs stored in its notebook; to run the "
             "code and move the sliders, open the notebooks in JupyterLab (the README says how). "
             "Read the lessons in order; each builds on the one before.", ""]
    for page, title, _ in lessons:
        described = about.get(f"{page}.ipynb")
        lines.append(f"- [{title}]({page}.ipynb)" + (f": {described}" if described else ""))
    lines += ["", f"The [glossary]({GLOSSARY_PAGE}.md) gathers every lesson's terms.", "",
              "```{toctree}", ":hidden:", ":caption: Lessons", ""]
    lines += [page for page, _, _ in lessons]
    lines += ["```", "", "```{toctree}", ":hidden:", ":caption: Reference", "", GLOSSARY_PAGE,
              "```", ""]
    return "\n".join(lines)


def mathjax_dir() -> Path:
    """MathJax 3's browser components, from the django-static-mathjax wheel."""
    spec = importlib.util.find_spec("mathjax")
    for location in (spec.submodule_search_locations or []) if spec else []:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / "tex-chtml.js").is_file():
            return es5
    raise FileNotFoundError("MathJax not found: pip install django-static-mathjax "
                            "(it is in requirements.txt)")


def _write_if_changed(path: Path, data: bytes) -> None:
    """Write atomically, and only when the content differs, so that Sphinx's incremental build
    re-reads only the pages that changed."""
    if path.is_file() and path.read_bytes() == data:
        return
    atomic_write(path, lambda f: f.write(data))


def _copy(source: Path, target: Path) -> None:
    """Copy a file, or a folder's files, to ``target``."""
    if source.is_file():
        _write_if_changed(target, source.read_bytes())
    for path in sorted(source.rglob("*")) if source.is_dir() else []:
        if path.is_file():
            _write_if_changed(target / path.relative_to(source), path.read_bytes())


def write_sources(src: Path, lang: str = "en") -> list:
    """Write the Sphinx sources of the book in ``lang`` into ``src``; returns the page names in
    reading order (the landing page first, the glossary last)."""
    import nbformat

    from lightnets.book import i18n

    src.mkdir(parents=True, exist_ok=True)
    lessons, notebooks = [], []
    for path in reading_order():
        nb = nbformat.read(path, as_version=4)
        lessons.append((path.stem, title_of(nb, path.stem), glossary(nb, path.name)))
        notebooks.append((path.stem, nb))
        book_nb = static_notebook(nb, path.name, lang)
        _write_if_changed(src / path.name, (nbformat.writes(book_nb) + "\n").encode("utf-8"))
    if lang == "en":
        index, glossary_md = landing_page(lessons), glossary_page(lessons)
    else:
        index = i18n.landing_page([(page, title) for page, title, _ in lessons], lang)
        glossary_md = i18n.glossary_page(notebooks, lang)
        # Sphinx compiles each catalogue to a .mo beside it: a copy, so the git tree stays clean.
        for path in sorted((i18n.LOCALE / lang / "LC_MESSAGES").glob("*.po")):
            _write_if_changed(src / "locale" / lang / "LC_MESSAGES" / path.name,
                              i18n.for_sphinx(path))
    _write_if_changed(src / "index.md", index.encode("utf-8"))
    _write_if_changed(src / f"{GLOSSARY_PAGE}.md", glossary_md.encode("utf-8"))
    _write_if_changed(src / "conf.py", (HERE / "conf.py").read_bytes())
    _copy(HERE / "_static", src / "_static")
    _copy(HERE / "_templates", src / "_templates")
    for part in MATHJAX_FILES:
        _copy(mathjax_dir() / part, src / "_static" / "mathjax" / part)
    return ["index"] + [page for page, _, _ in lessons] + [GLOSSARY_PAGE]


def _sphinx(src: Path, out: Path, builder: str, lang: str, quiet: bool):
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    with docutils_namespace():
        app = Sphinx(str(src), str(src), str(out), str(src / ".doctrees"), builder,
                     confoverrides={"language": lang},
                     status=None if quiet else sys.stdout, warning=sys.stderr,
                     warningiserror=True, keep_going=True)
        app.build()
    if app.statuscode:
        raise RuntimeError(f"Sphinx ({lang}) failed with status {app.statuscode}; see the "
                           "warnings above")


def build(out: Path, src: Path | None = None, quiet: bool = True,
          languages: tuple = ("en", "ko")) -> list:
    """Write the book into ``out`` (sources into ``src``, default ``out`` + ``-src`` beside it),
    and each further language's edition into ``out/<lang>`` (sources in ``src`` + ``-<lang>``);
    returns the English HTML pages in reading order. Sphinx warnings fail the build."""
    out = Path(out).resolve()
    src = Path(src).resolve() if src else out.with_name(out.name + "-src")
    pages = []
    for lang in languages:
        lang_src = src if lang == "en" else src.with_name(f"{src.name}-{lang}")
        lang_out = out if lang == "en" else out / lang
        names = write_sources(lang_src, lang)
        _sphinx(lang_src, lang_out, "html", lang, quiet)
        if lang == "en":
            pages = [out / f"{page}.html" for page in names]
    return pages


def update_catalogues(src: Path, lang: str = "ko") -> dict:
    """Refresh every lesson's catalogue in ``lightnets/book/locale/<lang>`` from the notebooks
    (see :func:`lightnets.book.i18n.update_catalogues`)."""
    from lightnets.book import i18n

    pages = write_sources(src, "en")
    return i18n.update_catalogues(src, lang, pages=pages[1:-1])


def main(argv=None) -> None:
    from lightnets.book import i18n

    parser = argparse.ArgumentParser(
        prog="python -m lightnets.book",
        description="Build the book of every lesson (Sphinx, MyST-NB, sphinx-book-theme) from the "
                    "notebooks' stored outputs, in English and, under OUT/ko, in Korean; or "
                    "refresh the Korean catalogues; or write Korean notebooks.")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: build/book; with --notebooks: "
                             "build/notebooks-LANG)")
    parser.add_argument("--src", type=Path, default=None,
                        help="where to write the generated Sphinx sources (default: OUT-src)")
    parser.add_argument("--lang", choices=sorted(i18n.LANGUAGES), default="ko",
                        help="the translation that --notebooks and --update-catalogues work on")
    parser.add_argument("--notebooks", action="store_true",
                        help="write the lessons' notebooks with their markdown translated into "
                             "LANG (code and outputs unchanged), for JupyterLab")
    parser.add_argument("--update-catalogues", action="store_true",
                        help="refresh lightnets/book/locale/LANG/LC_MESSAGES/*.po from the "
                             "notebooks after a lesson changed")
    parser.add_argument("--check", metavar="LESSON",
                        help="check one lesson's LANG catalogue and glossary terms (e.g. "
                             "11_tab_transformer): untranslated, fuzzy or stale messages, msgfmt")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.check:
        import nbformat

        path = ROOT / "notebooks" / f"{Path(args.check).stem}.ipynb"
        if not path.is_file():
            parser.error(f"--check: no lesson {path.name} in notebooks/")
        problems = i18n.check(nbformat.read(path, as_version=4), path.stem, args.lang)
        for problem in problems:
            print(problem)
        done = len(problems) == 0
        print(f"{path.stem} ({args.lang}): " + ("complete" if done else
                                                f"{len(problems)} problems"))
        sys.exit(0 if done else 1)
    if args.notebooks:
        out = args.out or Path("build") / f"notebooks-{args.lang}"
        written = i18n.write_notebooks(args.lang, out, reading_order())
        print(f"{len(written)} notebooks in {LANGUAGE_NAMES[args.lang]}: "
              f"jupyter lab {out}")
        return
    if args.update_catalogues:
        src = args.src or Path("build") / "gettext-src"
        status = update_catalogues(src, args.lang)
        for page, state in status.items():
            print(f"{state:9} {i18n.catalogue_path(page, args.lang).relative_to(ROOT)}")
        return
    out = args.out or Path("build/book")
    pages = build(out, args.src, quiet=not args.verbose)
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    print(f"{len(pages)} pages, in English and in Korean, in {time.perf_counter() - start:.0f} s, "
          f"{size / 2**20:.1f} MiB: open {Path(out) / 'index.html'} "
          f"(한국어: {Path(out) / 'ko' / 'index.html'})")


if __name__ == "__main__":
    main()
