"""Lazy package exports: a package names its public objects and where they live, and loads a module only when one
of its names is first used.

Every package of the core exports this way (PEP 562 module ``__getattr__``), so ``import optgui.core.engine`` costs
nothing until a name is used: the CLI starts fast, and no private module is loaded as a side effect of an import
(``tests/core/test_public_api.py`` checks both).

>>> import types
>>> package = types.ModuleType("example")
>>> exports = {"sqrt": "math", "dumps": "json"}
>>> package.__getattr__, package.__dir__ = lazy_exports(vars(package), exports, ["sqrt", "dumps"])
>>> package.sqrt(9.0)
3.0
>>> "sqrt" in vars(package)  # cached: the next use is a plain attribute lookup
True
>>> package.missing
Traceback (most recent call last):
AttributeError: module 'example' has no attribute 'missing'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: dict[str, object], exports: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose `public` names live in the modules `exports` maps
    them to; `namespace` is the package's ``globals()``, where each name is cached once loaded."""

    def module_getattr(name: str) -> object:
        home = exports.get(name)
        if home is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    def module_dir() -> list[str]:
        return sorted(set(namespace) | set(public))

    return module_getattr, module_dir
