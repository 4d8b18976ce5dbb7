"""aiogram's Telegram models are built on first use instead of all at import.

aiogram declares its ~300 Telegram types with pydantic's ``defer_build=True``, then calls ``model_rebuild``
on every one of them at the end of ``aiogram.types`` to resolve their forward references. That builds a
validator and a serializer for every type and, through them, for every method: 165 MB of resident memory and
3 s of start-up with pydantic 2.13 (aiogram issue #1513), for a bot that receives one kind of update and calls
a dozen methods.

`build_on_first_use` imports aiogram with ``model_rebuild`` changed for that import only: a call that passes
aiogram's namespace of type names records the namespace on the class instead of building it. Every aiogram
model (types, methods and the generic API response) then resolves its forward references through that one
namespace when pydantic builds it, on its first validation, as pydantic does for any deferred model. What the
bot never receives or calls is never built: ``import aiogram`` takes 58 MB and 0.7 s.

`tests/test_aiogram_models.py` builds every type and method this way in a fresh process, so an aiogram
upgrade that breaks the scheme fails there rather than on a rare update in production.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from pydantic import BaseModel

_TYPES_PACKAGE = "aiogram.types."


def build_on_first_use() -> bool:
    """Import aiogram with its models' building deferred; False (and aiogram as it is) if that can't be done.

    It can't once aiogram's types are imported, or if pydantic's ``model_rebuild`` no longer takes the
    namespace argument aiogram passes.
    """
    if "aiogram.types" in sys.modules:
        return False
    original = BaseModel.__dict__["model_rebuild"]
    if "_types_namespace" not in inspect.signature(original.__func__).parameters:
        return False
    namespace: dict[str, Any] = {}

    def record_namespace(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and cls.__module__.startswith(_TYPES_PACKAGE):
            namespace.update(_types_namespace)
            cls.__pydantic_parent_namespace__ = namespace
            return None
        return original.__func__(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth,
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(record_namespace)  # type: ignore[method-assign,assignment]
    try:
        import aiogram.methods as methods
        import aiogram.types  # noqa: F401  (the import whose rebuilds are recorded)
        from aiogram.methods.base import Response
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    # Methods and the response model were left incomplete, their annotations naming types that were not
    # built; they resolve them through the same namespace.
    for model in (Response, *(getattr(methods, name) for name in methods.__all__)):
        if isinstance(model, type) and issubclass(model, BaseModel):
            model.__pydantic_parent_namespace__ = namespace
    return True
