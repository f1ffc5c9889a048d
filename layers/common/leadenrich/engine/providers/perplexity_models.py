"""Perplexity's answer as models, apart from the HTTP client (`perplexity.py`).

`DecisionMakers` is what the waterfall, the cache and the unit tests' scripted fakes use; `ModelAnswer` is
the JSON object the client asks the model for, before its names are checked against the search results.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ModelAnswer(BaseModel):
    """The JSON object the request's schema asks for (`perplexity.DECISION_MAKERS_SCHEMA`)."""

    model_config = ConfigDict(extra="ignore")

    class Person(BaseModel):
        model_config = ConfigDict(extra="ignore")
        name: str
        title: str = ""
        source_urls: list[str] = Field(default_factory=list)

        @field_validator("title", mode="before")
        @classmethod
        def _no_title(cls, value: Any) -> Any:
            return "" if value is None else value

        @field_validator("source_urls", mode="before")
        @classmethod
        def _urls(cls, value: Any) -> Any:
            return [u for u in value if isinstance(u, str)] if isinstance(value, list) else []

    decision_makers: list[Person]

    @field_validator("decision_makers", mode="before")
    @classmethod
    def _people(cls, value: Any) -> Any:
        """Entries that are not a person object with a name are dropped, not the whole answer."""
        if value is None:
            return []
        if not isinstance(value, list):
            return value
        return [p for p in value if isinstance(p, dict) and isinstance(p.get("name"), str)]


class NamedPerson(BaseModel):
    name: str
    title: str
    source_urls: list[str]
    sourced: bool  # at least one of its URLs is among the pages the search actually returned


class DecisionMakers(BaseModel):
    people: list[NamedPerson]
    search_urls: list[str]
    cost_usd: float = 0.0
