"""line-bot-sdk's v3 clients, imported without its two packages' start-up work.

Importing `linebot.v3.messaging` first runs `linebot/__init__.py` and `linebot/v3/__init__.py`:
they import the SDK's deprecated v2 client (and `requests` with it), its webhook parser and
all its webhook event models, none of which bmabot uses. Measured (issue 13): 8.5 MB of every
`serve` and `worker` process's memory and about 0.1 s of its start-up. `defer_package_inits`
enters those two packages without running their `__init__`; the first use of a name one of
them defines (`linebot.v3.WebhookParser`, `linebot.__version__`) runs it then, once, so code
that does want them is not broken. It does nothing where they were imported already.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

DEFERRED = ("linebot", "linebot.v3")  # parents first: finding a child needs its parent


def defer_package_inits() -> None:
    for name in DEFERRED:
        if name not in sys.modules:
            sys.modules[name] = package = _deferred(name)
            parent, _, child = name.rpartition(".")
            if parent:  # as the import system does: `linebot.v3` is also linebot's `v3`
                sys.modules[parent].__dict__[child] = package


def _deferred(name: str) -> ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"{name} is not an installed package", name=name)
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)  # __path__ set: submodules import

    running, started = threading.RLock(), False

    def run_init(attribute: str) -> Any:
        # Called for a name the package does not have (PEP 562): the first call runs
        # __init__; a second thread waits here until it has run.
        nonlocal started
        with running:
            if not started:
                started = True
                try:
                    loader.exec_module(package)
                finally:
                    if package.__dict__.get("__getattr__") is run_init:
                        del package.__dict__["__getattr__"]
        if package.__dict__.get("__getattr__") is run_init:  # asked by __init__ itself
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")
        return getattr(package, attribute)

    package.__dict__["__getattr__"] = run_init
    return package
