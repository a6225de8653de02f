"""The static book (python -m lightnets.book) builds offline from the stored outputs."""
import json
import re

import pytest

from lightnets import book


@pytest.mark.slow
def test_book_has_a_page_per_notebook_in_reading_order_with_embedded_figures(tmp_path):
    pages = book.build(tmp_path)
    notebooks = book.reading_order()
    assert [p.name for p in notebooks][:2] == ["00_tour.ipynb", "01_depthwise_separable_flops.ipynb"]
    assert [p.name for p in pages] == ["index.html"] + [f"{n.stem}.html" for n in notebooks]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="([^"]+)"', index) == [p.name for p in pages[1:]]
    for notebook in notebooks:
        text = (tmp_path / f"{notebook.stem}.html").read_text(encoding="utf-8")
        stored = json.loads(notebook.read_text(encoding="utf-8"))
        figures = sum("image/png" in o.get("data", {}) for c in stored["cells"] for o in c.get("outputs", []))
        widgets = sum(book.WIDGET_VIEW in o.get("data", {}) for c in stored["cells"]
                      for o in c.get("outputs", []))
        assert text.count('src="data:image/png;base64,') == figures, notebook.name
        assert text.count("lightnets-widget-note") == widgets, notebook.name
        assert "VBox(children=" not in text and "HBox(children=" not in text
        # Nothing needed to read the page comes from the network: no require.js, no widget
        # manager; MathJax (optional, the LaTeX source reads without it) is the only script URL.
        scripts = re.findall(r'<script[^>]+src="([^"]*)"', text)
        assert all("mathjax" in s.lower() for s in scripts), scripts
