"""Optional dependencies: import them lazily, fail with the pip extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ImportError):
    """An optional dependency is not installed.

    Attributes:
        module: the module that failed to import.
        extra: the ``imse-keras`` pip extra that provides it.
    """

    def __init__(self, module: str, extra: str, detail: str = ""):
        hint = f'pip install "imse-keras[{extra}]"'
        msg = f"{module} is not installed (needed for this feature); install it with: {hint}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg, name=module)
        self.module = module
        self.extra = extra

    def __reduce__(self):
        return (type(self), (self.module, self.extra))


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        detail = str(err).splitlines()[0] if str(err) else ""
        raise MissingExtraError(module, extra, detail) from err
