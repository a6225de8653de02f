"""A lesson's glossary as its notebook writes it: the entries of the "## Glossary" list, each
``- **term**: definition``. Both the English book (its glossary page) and the translations (the
bilingual glossary) read them here."""
from __future__ import annotations

import re

GLOSSARY_HEADING = "## Glossary"


def glossary_entries(nb, name: str = "notebook") -> list:
    """The entries of the lesson's "## Glossary" list as written, each joined into one line
    (``- `` dropped): the text that is also the entry's message in the lesson's catalogue."""
    for cell in nb.cells:
        if cell.cell_type != "markdown" or GLOSSARY_HEADING not in cell.source:
            continue
        body = cell.source.split(GLOSSARY_HEADING, 1)[1]
        body = re.split(r"^#", body, maxsplit=1, flags=re.MULTILINE)[0]
        entries = re.split(r"^- ", body.strip(), flags=re.MULTILINE)[1:]
        return [" ".join(line.strip() for line in entry.splitlines()).strip()
                for entry in entries]
    raise ValueError(f"{name} has no '{GLOSSARY_HEADING}' section")


def split_glossary_entry(entry: str, name: str = "notebook") -> tuple:
    """``**term** (optional note): definition`` (or ``—`` for the colon) -> (term, definition)."""
    match = re.match(r"(\*\*[^*]+\*\*[^:—]*?)\s*(?::|\s—)\s+(.+)", entry)
    if match is None:
        raise ValueError(f"{name}: glossary entry {entry[:60]!r} is not "
                         "'- **term**: definition'")
    return match[1].strip(), match[2].strip()


def glossary(nb, name: str = "notebook") -> list:
    """The (term, definition) pairs of the lesson's "## Glossary" list, as markdown; each entry is
    ``- **term** (optional note): definition`` (or ``—`` for the colon), lines may wrap."""
    return [split_glossary_entry(entry, name) for entry in glossary_entries(nb, name)]
