"""One module per family. Importing this package imports each of them, which registers their
models with :mod:`lightnets.registry` (a new family file needs no edit here)."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
