"""The notebooks' sliders in a real browser: JupyterLab from this environment, driven by Playwright
in Debian's Chromium (Playwright's own browser download is not needed).

For each notebook with a widget: run every cell, check that every widget renders (no
``VBox(children=...)`` text, no "Error displaying widget"), then move each slider with the keyboard
as a learner would and check that the figure and the numbers change to exactly what
``lightnets.widgets`` computes for the new value. Screenshots before and after each move go to
``$LIGHTNETS_ARTIFACTS`` (default ``tests/artifacts/browser``, git-ignored).

Run it alone: ``.venv/bin/python -m pytest -m browser tests/test_browser.py``. It needs
``apt install chromium`` (or ``$LIGHTNETS_CHROMIUM``; playwright comes with requirements.txt);
without Chromium it is skipped and says why.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from lightnets import widgets as lw

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
CHROMIUM = os.environ.get("LIGHTNETS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("LIGHTNETS_ARTIFACTS", REPO / "tests" / "artifacts")) / "browser"
TOKEN = "lightnets-browser-test"
KOREAN = "11_tab_transformer"  # a lesson with a complete Korean edition (tests/test_korean.py)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# JupyterLab settings for a quiet, deterministic page: every cell in the DOM (no virtual
# scrolling), no "would you like news?" toast, no update check.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


def _expected(notebook: str, values: list) -> dict:
    """What the widget must show for these slider values, computed here by the package itself:
    ``images``: PNG bytes per image widget, ``html``: the HTML of each HTML widget."""
    if notebook.startswith("01"):
        return {"images": [lw.render_width_resolution_plot(*values)],
                "html": [lw.render_width_resolution(*values)]}
    if notebook.startswith("02"):
        png, text = lw.render_spiral(*values)
        return {"images": [png], "html": [text]}
    if notebook.startswith("04"):
        return {"images": [lw.render_compound_plot(*values)],
                "html": [lw.render_compound(*values)]}
    if notebook.startswith("07"):
        from lightnets.widgets.densenet import render_growth_depth, render_growth_depth_plot
        return {"images": [render_growth_depth_plot(*values)],
                "html": [render_growth_depth(*values)]}
    raise AssertionError(f"no expectation for {notebook}")


# notebook: (slider keys pressed in order, each (slider index, key, value after the press),
#            the slider values the notebook starts the widget at)
MOVES = {
    "01_depthwise_separable_flops.ipynb": ([(0, "ArrowRight", 0.75), (1, "End", 224)], [0.5, 160]),
    "02_linear_bottlenecks.ipynb": ([(0, "ArrowRight", 6), (1, "End", 19)], [5, 0]),
    "04_compound_scaling.ipynb": ([(0, "ArrowRight", 1.21), (1, "ArrowRight", 1.11),
                                   (2, "ArrowRight", 1.16), (3, "ArrowRight", 1.1), (3, "End", 8.0)],
                                  [1.2, 1.1, 1.15, 1.0]),
    "07_densenet_early_exits.ipynb": ([(0, "ArrowRight", 16), (1, "ArrowRight", 106)], [12, 100]),
}


def _widget_notebooks() -> list:
    found = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")
                   if "application/vnd.jupyter.widget-view+json" in p.read_text(encoding="utf-8"))
    return found


def test_every_notebook_with_a_widget_has_slider_moves():
    assert set(_widget_notebooks()) == set(MOVES), "add the new widget notebook to MOVES"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server from this Python environment over a temporary copy of the notebooks."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt install chromium, or set $LIGHTNETS_CHROMIUM)")
    root, settings = tmp_path_factory.mktemp("lab-root"), tmp_path_factory.mktemp("lab-settings")
    for name in MOVES:
        shutil.copy(NOTEBOOKS / name, root / name)
    # Issue 37: a Korean notebook, generated from the catalogue as the README tells a learner to.
    from lightnets.book import i18n

    i18n.write_notebooks("ko", root / "ko", [NOTEBOOKS / f"{KOREAN}.ipynb"])
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port = _free_port()
    # The kernel inherits the server's environment: put this checkout first so that it imports the
    # lightnets under test, as the test process does.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={settings}",
               "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(tmp_path_factory.mktemp("lab-log") / "server.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"JupyterLab exited with {server.returncode}; see {log.name}")
                time.sleep(0.5)
        else:
            raise RuntimeError(f"JupyterLab did not answer within 120 s; see {log.name}")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


def _run_all(page, url: str, name: str) -> None:
    workspace = Path(name).name.split("_")[0] + ("-ko" if "/" in name else "")
    page.goto(f"{url}/lab/workspaces/{workspace}/tree/{name}?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function("window.jupyterapp !== undefined")
    select = page.locator(".jp-Dialog button", has_text="Select")
    try:  # a fresh server may ask which kernel to start
        select.click(timeout=5_000)
    except Exception:
        pass
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', state="attached",
                           timeout=60_000)
    page.evaluate("""() => { const c = window.jupyterapp.commands;
        c.execute('notebook:clear-all-cell-outputs').then(() => c.execute('notebook:run-all-cells')); }""")
    # Done when every code cell has an execution count (read from the notebook model: a collapsed
    # solution cell shows no prompt) and the kernel is idle.
    page.wait_for_function("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        if (!panel || !panel.content || !panel.content.widgets) return false;
        const code = panel.content.widgets.filter(c => c.model.type === 'code');
        const status = document.querySelector('.jp-Notebook-ExecutionIndicator').dataset.status;
        return code.length > 0 && code.every(c => c.model.executionCount !== null)
            && status === 'idle'; }""", timeout=150_000)


def _shown(view) -> dict:
    """What a widget view shows now: image bytes (base64) and the HTML widgets' HTML."""
    return view.evaluate("""async (root) => {
        const images = [];
        for (const img of root.querySelectorAll('img.widget-image')) {
            const blob = await (await fetch(img.src)).blob();
            const bytes = new Uint8Array(await blob.arrayBuffer());
            let s = ''; for (const b of bytes) s += String.fromCharCode(b);
            images.push({data: btoa(s), natural: [img.naturalWidth, img.naturalHeight],
                         shown: [img.clientWidth, img.clientHeight]});
        }
        const html = [...root.querySelectorAll('.widget-html-content')].map(e => e.innerHTML);
        const text = [...root.querySelectorAll('.widget-html-content')].map(e => e.innerText);
        return {images, html, text}; }""")


def _as_displayed(page, html: str) -> dict:
    """The browser's own serialisation and text of an HTML string, to compare with a widget's."""
    return page.evaluate("""(html) => { const d = document.createElement('div');
        d.className = 'widget-html-content'; d.innerHTML = html; document.body.appendChild(d);
        const out = {html: d.innerHTML, text: d.innerText}; d.remove(); return out; }""", html)


def _wait_for_change(view, before: dict, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _shown(view)
        images_moved = not now["images"] or [i["data"] for i in now["images"]] != [
            i["data"] for i in before["images"]]
        if now["html"] != before["html"] and images_moved:
            time.sleep(0.3)  # let the second output of the same update land
            return _shown(view)
        time.sleep(0.2)
    raise AssertionError("the widget did not change after the slider moved")


@pytest.mark.parametrize("name", sorted(MOVES))
def test_widget_renders_and_follows_its_sliders(lab, browser, name):
    page = browser.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = name.split("_")[0]
    try:
        _run_all(page, lab, name)
        body = page.inner_text("body")
        assert "VBox(" not in body and "HBox(" not in body, f"{name}: a widget shows as text"
        assert "Error displaying widget" not in body, f"{name}: a widget failed to display"
        view = page.locator(".jp-OutputArea-output .jupyter-widgets.widget-vbox").first
        view.wait_for(timeout=30_000)
        view.scroll_into_view_if_needed()
        handles = view.locator(".noUi-handle")
        moves, values = MOVES[name][0], list(MOVES[name][1])
        assert handles.count() == len(values), f"{name}: expected {len(values)} sliders"
        before = _shown(view)
        expected = _expected(name, values)
        for shown, png in zip(before["images"], expected["images"]):
            assert base64.b64decode(shown["data"]) == png
            assert shown["shown"] == shown["natural"], f"{name}: the image is scaled in the page"
        view.screenshot(path=str(ARTIFACTS / f"{stem}_0_before.png"))
        for step, (index, key, value) in enumerate(moves, start=1):
            handles.nth(index).focus()
            page.keyboard.press(key)
            after = _wait_for_change(view, before)
            now = float(view.locator(".widget-readout").nth(index).inner_text())
            assert now == pytest.approx(value), f"{name}: slider {index} at {now} after {key}"
            values[index] = type(values[index])(value)
            expected = _expected(name, values)
            view.screenshot(path=str(ARTIFACTS / f"{stem}_{step}_after_slider{index}_{key}.png"))
            assert len(after["images"]) == len(expected["images"])
            for shown, png in zip(after["images"], expected["images"]):
                assert base64.b64decode(shown["data"]) == png, f"{name}: figure is not the package's"
                assert shown["shown"] == shown["natural"], f"{name}: the image is scaled in the page"
            for i, html in enumerate(expected["html"]):
                want = _as_displayed(page, html)
                assert after["text"][i] == want["text"], f"{name}: numbers differ from the package's"
                assert after["html"][i] == want["html"], f"{name}: HTML differs from the package's"
            assert after != before
            before = after
    finally:
        page.close()


def test_jupyterlab_opens_and_runs_a_generated_korean_notebook(lab, browser):
    """Issue 37: JupyterLab opens a Korean notebook made by ``--lang ko --notebooks``; its prose
    shows in Hangul and every cell runs without an error."""
    page = browser.new_page()
    try:
        _run_all(page, lab, f"ko/{KOREAN}.ipynb")
        prose = page.locator(".jp-MarkdownOutput").first.inner_text()
        hangul = sum("\uac00" <= ch <= "\ud7a3" for ch in prose)
        assert hangul >= 10, f"no Korean in the first markdown cell: {prose[:80]!r}"
        assert page.locator(".jp-OutputArea-output[data-mime-type="
                            "'application/vnd.jupyter.error']").count() == 0, "a cell raised"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"ko_{KOREAN}.png"))
    finally:
        page.close()


def test_a_lessons_link_to_its_appendix_scrolls_there_in_jupyterlab(lab, browser):
    # Lesson 01 links to its appendices by the anchors JupyterLab gives headings (the book uses
    # the same: lightnets.book.slugs). Clicking one must take the notebook to the appendix: its
    # heading comes to the top of the view from some 15,000 px below. (An anchor with a non-ASCII
    # character, "Appendix A · …", is percent-encoded in the link and JupyterLab does not follow
    # it: measured, hence "Appendix A. …".)
    name = "01_depthwise_separable_flops.ipynb"
    page = browser.new_page()
    try:
        page.goto(f"{lab}/lab/workspaces/01-links/tree/{name}?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        try:  # a fresh server may ask which kernel to start
            page.locator(".jp-Dialog button", has_text="Select").click(timeout=5_000)
        except Exception:
            pass
        link = page.locator('.jp-Notebook .jp-RenderedMarkdown a[href^="#Appendix-A."]').first
        link.wait_for(timeout=30_000)
        target = urllib.parse.unquote(link.get_attribute("href")[1:])
        top = """(id) => document.querySelector(`h2[id="${id}"], h2[data-jupyter-id="${id}"]`)
                             .getBoundingClientRect().top"""
        assert page.evaluate(top, target) > 2000, "the appendix starts far below the link"
        link.scroll_into_view_if_needed()
        link.click()
        page.wait_for_function(f"(id) => {{ const t = ({top})(id); "
                               "return t > -400 && t < window.innerHeight; }",
                               arg=target, timeout=15_000)
    finally:
        page.close()
