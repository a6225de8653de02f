"""tests/references/live/ runs the reference libraries themselves (torchvision, timm, thop, ptflops,
fvcore). They are not installed in the default set-up, where tests/test_references.py checks the
same things against the golden files instead; so the live tests are collected only where every
library is present (the reference venv, see the README), and are never reported as skipped."""
import importlib.util

LIVE_LIBRARIES = ("torchvision", "timm", "thop", "ptflops", "fvcore", "torchinfo")

collect_ignore = [] if all(importlib.util.find_spec(m) for m in LIVE_LIBRARIES) else ["live"]
