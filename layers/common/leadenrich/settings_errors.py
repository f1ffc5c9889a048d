"""The error for an unusable environment variable, and reading a settings model from the environment: its
own module, so cheap handlers can raise it too (pydantic is imported only by the calls that read one)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use; the message names it."""


def settings_from_env(model: type[M], env: Mapping[str, str] | None = None) -> M:
    """Each field from its upper-case variable (unset or empty: the default); a SettingsError names the
    first variable that is wrong."""
    from pydantic import ValidationError

    env = os.environ if env is None else env
    names = {field: field.upper() for field in model.model_fields}
    values = {field: env[var] for field, var in names.items() if env.get(var)}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SettingsError(f"{names.get(str(first['loc'][0]), first['loc'][0])}: {first['msg']}") from None


def require_together(settings: BaseModel, fields: Sequence[str]) -> None:
    """All of `fields` set, or none: a SettingsError names a missing one and one that was set."""
    given = [getattr(settings, name) is not None for name in fields]
    if any(given) and not all(given):
        missing, present = fields[given.index(False)], fields[given.index(True)]
        raise SettingsError(f"{missing.upper()}: required with {present.upper()}")
