"""A static book of every lesson: one HTML page per notebook and an index, in the README's reading
order, from the notebooks' stored outputs (nothing is re-executed) with nbconvert's HTML export.

    python -m lightnets.book --out build/book

No network is needed to build or to read it: figures are embedded as data URIs; require.js and the
widget manager (both from a CDN) are left out, since the book carries no live widgets: each widget
view is replaced by a note, and the static figure the notebook draws beside every widget shows
what it displays at its default values. Math is typeset by MathJax where a copy is on disk
(Debian's ``libjs-mathjax``, or ``--mathjax DIR``), copied into the book; without one the page
loads MathJax from its CDN when online and otherwise shows the LaTeX source, which stays readable.
"""
from __future__ import annotations

import argparse
import copy
import html
import re
import shutil
from pathlib import Path

from lightnets._io import atomic_write

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
DEBIAN_MATHJAX = Path("/usr/share/javascript/mathjax")
WIDGET_NOTE = (
    '<p class="lightnets-widget-note"><em>An interactive widget (sliders) is here in '
    "JupyterLab; the figure below shows what it displays at its default values.</em></p>"
)


def reading_order(readme: Path = ROOT / "README.md", notebooks: Path = ROOT / "notebooks") -> list:
    """The notebooks in the order the README's table lists them; any it does not list go last."""
    listed = re.findall(r"\(notebooks/([^)]+\.ipynb)\)", readme.read_text(encoding="utf-8"))
    present = sorted(p.name for p in notebooks.glob("*.ipynb"))
    order = [name for name in dict.fromkeys(listed) if name in present]
    return [notebooks / name for name in order + [n for n in present if n not in order]]


def static_notebook(nb):
    """A copy of ``nb`` without live widgets: widget views become a note, widget state is dropped
    (its renderer would come from a CDN), and the stored outputs are otherwise kept as they are."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                output["data"] = {"text/html": WIDGET_NOTE}
    return nb


def title_of(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def build(out: Path, mathjax: Path | None = None) -> list:
    """Write the book into ``out``; returns the pages written (index first)."""
    import nbformat
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    mathjax = mathjax or (DEBIAN_MATHJAX if (DEBIAN_MATHJAX / "MathJax.js").exists() else None)
    exporter = HTMLExporter(template_name="lab")
    exporter.require_js_url = ""  # only live widgets and JS outputs need it; the book has none
    if mathjax is not None:
        shutil.copytree(mathjax, out / "mathjax", dirs_exist_ok=True)
        exporter.mathjax_url = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    pages, entries = [], []
    for path in reading_order():
        nb = static_notebook(nbformat.read(path, as_version=4))
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        body = body.replace('<script src=""></script>', "")
        page = out / f"{path.stem}.html"
        atomic_write(page, lambda f, text=body: f.write(text.encode("utf-8")))
        pages.append(page)
        entries.append(f'<li><a href="{page.name}">{html.escape(title_of(nb, path.stem))}</a></li>')
    index = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lightnets: the "
        "lessons</title></head>\n<body style=\"font-family: sans-serif; max-width: 48em; margin: "
        "2em auto\">\n<h1>lightnets: the lessons</h1>\n<p>Read them in order; each builds on the "
        "one before. Built from the notebooks' stored outputs.</p>\n<ol>\n"
        + "\n".join(entries)
        + "\n</ol>\n</body></html>\n"
    )
    atomic_write(out / "index.html", lambda f: f.write(index.encode("utf-8")))
    return [out / "index.html"] + pages


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/book"), help="output directory")
    parser.add_argument(
        "--mathjax",
        type=Path,
        default=None,
        help="a local MathJax 2 directory (holding MathJax.js) to copy into the book",
    )
    args = parser.parse_args(argv)
    for page in build(args.out, args.mathjax):
        print(page)


if __name__ == "__main__":
    main()
