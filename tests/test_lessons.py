"""What every lesson promises a learner (issue 34), read from the notebooks' own text.

- it opens with its prerequisites, its reading time and what you will learn;
- each section ends with its take-away;
- its checks are claims a learner reads, not bare ``assert`` lines (at most 40 in all notebooks,
  the one line of a solution cell that proves the solution passes its checker aside);
- its prose has no words of the test harness;
- every table, figure, equation or section of a paper it cites names the paper's version;
- no paper's number is typed in its code: a line that cites a paper reads the number from the data
  table in the model file (``v1.TABLE_8[...]``), and so does a claim that names a table.
"""
from __future__ import annotations

import ast
import glob
import io
import json
import os
import re
import tokenize

import pytest

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")
PATHS = sorted(glob.glob(os.path.join(NOTEBOOKS, "[0-9][0-9]_*.ipynb")))
IDS = [os.path.basename(p)[:-len(".ipynb")] for p in PATHS]


def _cells(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as file:
        return json.load(file)["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _markdown(path: str) -> list[str]:
    return [_source(c) for c in _cells(path) if c["cell_type"] == "markdown"]


def _code(path: str) -> list[str]:
    # IPython's magics and shell lines are not Python.
    return ["\n".join(line for line in _source(c).splitlines()
                      if not line.lstrip().startswith(("%", "!")))
            for c in _cells(path) if c["cell_type"] == "code"]


# --- shape -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_lesson_opens_with_prerequisites_reading_time_and_goals(path):
    first = _markdown(path)[0]
    places = [first.find(words) for words in
              ("**Prerequisites:**", "**Reading time:**", "**What you will learn**")]
    assert -1 not in places, f"the first cell lacks {places}: Prerequisites, Reading time, What you will learn"
    assert places == sorted(places), "Prerequisites, then Reading time, then What you will learn"
    minutes = re.search(r"\*\*Reading time:\*\*[^\n]*?(\d+) minutes", first)
    assert minutes, "Reading time says how many minutes"


# Sections that are not a step of the lesson's argument: they need no take-away of their own.
NOT_A_STEP = re.compile(r"Exercises|Recap|Glossary|More to try|Appendix", re.I)


def _sections(path: str) -> list[tuple[str, str]]:
    """(heading, text up to the next heading of the same level) for every ``## `` heading."""
    text = "\n".join(_markdown(path))
    parts = re.split(r"^(## .*)$", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_section_ends_with_its_take_away(path):
    missing = [heading for heading, body in _sections(path)
               if not NOT_A_STEP.search(heading) and "**Take-away:**" not in body]
    assert not missing, f"sections without a '**Take-away:**' line: {missing}"


def _bare_asserts(path: str) -> list[str]:
    lines = []
    for code in _code(path):
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Assert):
                line = ast.get_source_segment(code, node)
                # a solution cell's proof that it passes its checker: `assert q2.check(answer)`
                if not re.fullmatch(r"assert \w+\.check\(answer\)", line):
                    lines.append(line)
    return lines


def test_claims_not_bare_asserts():
    counts = {os.path.basename(p): len(_bare_asserts(p)) for p in PATHS}
    assert sum(counts.values()) <= 40, f"{sum(counts.values())} bare asserts in the notebooks: {counts}"


HARNESS_WORDS = re.compile(r"\bnbval\b|NBVAL|\bCI\b|\bpytest\b|test suite|stored outputs", re.I)


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_no_harness_words_in_prose(path):
    found = [m.group(0) for text in _markdown(path) for m in HARNESS_WORDS.finditer(text)]
    assert not found, f"test-harness words in the lesson's prose: {found}"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_no_harness_markers_in_code(path):
    # A cell whose output differs by machine (a timing) carries nbval's `nbval-ignore-output` tag
    # in its metadata, not a `# NBVAL_IGNORE_OUTPUT` line in the code a learner reads.
    found = [line.strip() for code in _code(path) for line in code.splitlines()
             if re.search(r"nbval", line, re.I)]
    assert not found, f"test-harness markers in the lesson's code: {found}"


# --- citations ---------------------------------------------------------------------------------

# "Table 2", "Tables 4–9", "Fig. 6", "Figure 3", "Eq. 1", "eq. (2)", "§3.2"
CITES = re.compile(r"\b(?:Tables?|Figs?\.|Figures?|Eqs?\.|eqs?\.)\s*\(?\d|§\s*\d")
# "arXiv v4", "arXiv:1801.04381v4", "(v5)", "CVPR 2018", "ICCV 2019 camera-ready", a README's commit
VERSION = re.compile(r"arXiv(?::\d{4}\.\d{4,5})?\s*v\d|\bv\d+\b|"
                     r"\b(?:CVPR|ICCV|ECCV|ICML|NeurIPS|NIPS|BMVC|ICLR|AAAI|KDD|WACV)\s*'?\d{2,4}|"
                     r"camera-ready|proceedings|commit [0-9a-f]{7}")


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_cited_table_names_the_papers_version(path):
    bare = []
    for text in _markdown(path):
        if re.match(r"\s*## Glossary", text):
            continue
        for paragraph in re.split(r"\n\s*\n", text):
            if CITES.search(paragraph) and not VERSION.search(text):
                bare.append(CITES.search(paragraph).group(0) + ": " + paragraph.strip()[:80])
    assert not bare, "cells that cite a paper without naming its version:\n" + "\n".join(bare)


CITING_LINE = re.compile(r"\b(?:Tables?|Figs?\.|Figures?|Eqs?\.|eqs?\.)\s*\(?\d|§\s*\d|"
                         r"\bpaper\b|\bprints\b|\bpapers\b")


def _allowed(value) -> bool:
    """Numbers a line may type beside a citation: small counts, quarters (a width multiplier),
    tolerances (at most 0.25) and units; not a paper's result."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    return ((0 <= value <= 16 and 4 * value == int(4 * value)) or 0 < value <= 0.25
            or value in (100, 1000, 1e3, 1e6, 1e9))


def _typed_numbers_on_citing_lines(code: str) -> list[str]:
    found = []
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.NUMBER and CITING_LINE.search(token.line):
            value = ast.literal_eval(token.string)
            if not isinstance(value, complex) and not _allowed(value):
                found.append(f"{token.string} in: {token.line.strip()}")
    return found


def _claims_with_typed_expectations(code: str) -> list[str]:
    """A claim ``(description, measured, expected[, tolerance])`` whose description cites a
    paper and whose expected value is, or holds, a typed number."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("show", "check")
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "claims"):
            continue
        claims = node.args if node.func.attr == "show" else [ast.Tuple(elts=node.args)]
        for claim in claims:
            if not (isinstance(claim, ast.Tuple) and len(claim.elts) >= 3):
                continue
            description = ast.get_source_segment(code, claim.elts[0]) or ""
            if not CITING_LINE.search(description):
                continue
            typed = [n.value for n in ast.walk(claim.elts[2])
                     if isinstance(n, ast.Constant) and not _allowed(n.value)]
            if typed:
                found.append(f"{description}: expects typed {typed}")
    return found


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_no_paper_number_typed_in_code(path):
    found = []
    for code in _code(path):
        found += _typed_numbers_on_citing_lines(code) + _claims_with_typed_expectations(code)
    assert not found, ("numbers a paper prints, typed in the lesson's code (read them from the "
                       "model file's table):\n" + "\n".join(found))


# --- the checks above can fail ----------------------------------------------------------------

def test_the_citation_checks_catch_what_they_are_for():
    assert _typed_numbers_on_citing_lines("x = round(macs / 1e6) == 569  # Table 8\n")
    assert not _typed_numbers_on_citing_lines("x = v1.TABLE_8['a'][1]  # Table 8, 1.0 at 224\n")
    assert _claims_with_typed_expectations(
        'claims.show(("Mult-Adds = Table 8\'s", round(m / 1e6), 569))\n')
    assert not _claims_with_typed_expectations(
        'claims.show(("Mult-Adds = Table 8\'s", round(m / 1e6), v1.TABLE_8["x"][1]))\n')
    assert not _claims_with_typed_expectations('claims.show(("exact", ratio, 569))\n')
    assert CITES.search("as Table 2 shows") and not VERSION.search("as Table 2 shows")
    assert VERSION.search("Table 2 (arXiv v4)") and VERSION.search("CVPR 2018")
