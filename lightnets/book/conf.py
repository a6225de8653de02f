"""Sphinx configuration of the lightnets book. ``python -m lightnets.book`` copies this file into
the generated source folder (beside ``_static``, the notebooks and the pages) and builds there.

A translated edition (issue 37) reuses it unchanged: its catalogues go in ``locale/<lang>/
LC_MESSAGES/<page>.po`` under the source folder, one per page (``gettext_compact = False``), and the
build overrides ``language``.
"""
from pathlib import Path

from sphinx.transforms import SphinxTransform

project = "lightnets"
author = "the lightnets authors"
html_title = "lightnets"

extensions = ["myst_nb"]
# The notebooks' stored outputs are the book's outputs: nothing is executed.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
# Anchors for headings, so that the glossary can link to each lesson's "Glossary" section, named
# as JupyterLab names them, so that a lesson's links to its own sections work in both.
myst_heading_anchors = 2
myst_heading_slug_func = "lightnets.book.slugs.jupyter_slug"
# The lessons write display math inside paragraphs ("costs\n$$D_K \cdot ...$$\nand ...").
myst_dmath_double_inline = True
exclude_patterns = ["locale", ".doctrees", ".jupyter_execute", "**/.ipynb_checkpoints"]

# MathJax 3 from _static/mathjax (copied from the django-static-mathjax wheel): no CDN.
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": True,
    # The search field is in the sidebar; pydata-sphinx-theme would repeat it in a top bar.
    "navbar_persistent": [],
    # English <-> 한국어 on every page (_templates/language-switch.html).
    "article_header_end": ["language-switch.html", "article-header-buttons.html"],
}
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["lightnets.css"]
# The notebooks are in the repository; a copy of each (with its figures, base64) would double
# the book's size.
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_show_copyright = False

# Translations (issue 37): one catalogue per page, found under the source folder.
language = "en"
locale_dirs = ["locale"]
gettext_compact = False


def _outputs_beside_sources(app):
    # MyST-NB writes every figure, and a copy of every notebook, to jupyter_execute/ beside the
    # output folder (build/ for build/book); keep them with the generated sources instead.
    config = app.env.mystnb_config
    app.env.mystnb_config = config.copy(output_folder=str(Path(app.srcdir) / ".jupyter_execute"))


class _KeepMathAsWritten(SphinxTransform):
    """Display math is the same in every language: no message to translate (see
    lightnets.book.i18n.keep_math). Runs before Sphinx's Locale transform (priority 20)."""

    default_priority = 10

    def apply(self, **kwargs):
        from lightnets.book.i18n import keep_math

        keep_math(self.document)


def setup(app):
    app.connect("builder-inited", _outputs_beside_sources, priority=900)
    app.add_transform(_KeepMathAsWritten)
