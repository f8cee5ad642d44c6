"""Settings read from the environment that template.yaml gives each function."""

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from headsup.shared.errors import contract_problems


class SettingsError(RuntimeError):
    """The function's environment is missing or has an invalid setting (a deployment error)."""


class EnvSettings(BaseModel):
    """Base for a function's settings: fields are aliased to their environment variable names."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        try:
            return cls.model_validate(dict(os.environ if env is None else env))
        except ValidationError as exc:
            problems = "; ".join(contract_problems(exc))
            raise SettingsError(f"{cls.__name__} is invalid: {problems}") from exc
