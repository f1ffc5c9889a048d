"""A workspace's personal-data settings (`ports.WorkspaceSettings`): what a change may say, how a row holds
them, and how the processor reads them without a table read per item.

A change (`PUT /settings`, `enrich workspace settings set`) names only what it changes: the fields left out
keep their value, so a client that knows only the retention fields cannot reset the approval workflow or
the countries by omission (a full replacement would). `null` is refused rather than read as "the default":
leaving a field out keeps it, and the defaults are documented values one can send (docs/privacy.md).

Bounds, and why: every period is 1 to 3,650 days (ten years; zero would delete what was just written, and a
longer one is no retention at all); countries are ISO 3166-1 alpha-2 codes as ISO writes them, upper
case (`de` and `UK` are refused, naming DE and GB: a code is compared as stored, so no other spelling is
let in), at most `MAX_COUNTRIES` each, a repeat dropped (a country in both lists has its leads refused:
the refusal wins, `privacy.region`); the lawful basis is one of `LAWFUL_BASES` (GDPR art. 6's three a B2B
outreach tool can stand on). Every rule is in the OpenAPI schema too (the codes as an enum, integers and
booleans as JSON has them), so a request the document calls valid is never refused, nor one it refuses
taken.

Rows: the stores keep the fields as plain values (`settings_row`) and read them back leniently
(`settings_from_row`): a field missing from an older row takes its default, an unknown one is ignored, so a
field added to `WorkspaceSettings` needs no migration of stored rows.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    WithJsonSchema,
    field_validator,
)
from pydantic.config import JsonDict

from leadenrich.bounces.sources import (
    MAX_TOPICS,
    PASSWORD_PATTERN,
    SENDGRID_KEY_PATTERN,
    TOPIC_ARN_PATTERN,
    password_digest,
    sendgrid_key,
)
from leadenrich.privacy.ports import WorkspaceSettings, WorkspaceSettingsStore

MIN_DAYS = 1
MAX_DAYS = 3650
MAX_COUNTRIES = 250
LAWFUL_BASES = ("legitimate_interest", "consent", "contract")
LawfulBasis = Literal["legitimate_interest", "consent", "contract"]
DEFAULTS = WorkspaceSettings()
# How long the processor trusts a settings read (`CachedSettings`): a change reaches the rows written by the
# processor within this time, and a busy processor reads each workspace's row at most this often.
SETTINGS_CACHE_SECONDS = 300.0

# ISO 3166-1 alpha-2, the 249 officially assigned codes.
ISO_COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW
    """.split()  # noqa: SIM905 - a table of codes reads better than 249 quoted strings
)
_NOT_ISO = {"UK": "GB", "EL": "GR"}  # codes people use that ISO 3166-1 gives another name


def country_code(value: str) -> str:
    """`value` when it is an ISO 3166-1 alpha-2 code as ISO writes it (upper case); ValueError saying what
    to write instead otherwise."""
    if value in ISO_COUNTRIES:
        return value
    code = value.strip().upper()
    if code in _NOT_ISO:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 code: use {_NOT_ISO[code]}")
    if code in ISO_COUNTRIES:
        raise ValueError(f"{value!r}: write ISO 3166-1 alpha-2 codes as {code}")
    raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (two capital letters, e.g. DE)")


_ISO_ENUM: list[JsonValue] = [*sorted(ISO_COUNTRIES)]


def _json_number(value: object) -> object:
    """A JSON number only: pydantic's lax mode would take "30" and true as days, which the document (type
    integer) refuses; 30.0 is an integer to JSON Schema and is taken."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError("Input should be a valid integer")
    return value


# The bounds before the validator, so that they stay the integer's (minimum, maximum) in the document.
Days = Annotated[int, Field(ge=MIN_DAYS, le=MAX_DAYS), BeforeValidator(_json_number)]
CountryCode = Annotated[
    str, AfterValidator(country_code), WithJsonSchema({"type": "string", "enum": _ISO_ENUM})
]
Countries = Annotated[list[CountryCode], Field(max_length=MAX_COUNTRIES)]
# Bounce sources (`leadenrich.bounces.sources`): patterns in the document; a key is also loaded (a point on
# P-256 is a rule no pattern states).
TopicArns = Annotated[list[Annotated[str, Field(pattern=TOPIC_ARN_PATTERN)]], Field(max_length=MAX_TOPICS)]
SendGridKey = Annotated[str, Field(pattern=SENDGRID_KEY_PATTERN), AfterValidator(sendgrid_key)]
PostmarkPassword = Annotated[str, Field(pattern=PASSWORD_PATTERN)]
POSTMARK_PASSWORD = "bounce_postmark_password"  # noqa: S105 - a field's name; the settings keep its digest


def _optional(schema: JsonDict) -> None:
    """No `default` in the document: leaving a field out keeps the stored value, not a default one."""
    schema.pop("default", None)


MIN_REVERIFY_DAYS = 30  # the verification cache's TTL: a sooner re-verification would read the cache
MAX_REVERIFY_CREDITS = 10_000_000


def _reverify_days(days: int) -> int:
    if 0 < days < MIN_REVERIFY_DAYS:
        raise ValueError(f"0 (off) or at least {MIN_REVERIFY_DAYS}: a verification is cached for 30 days")
    return days


def _given(description: str) -> Any:
    """A field that may be left out (None then, and not in `model_fields_set`), described."""
    return Field(default=None, json_schema_extra=_optional, description=description)


class WorkspaceSettingsChange(BaseModel):
    """`PUT /settings`: the fields given change, the others keep their value (see the module docstring).
    A field left out is None here and not in `model_fields_set`, which `apply` reads; its type has no None,
    so a null sent is refused naming the field, and the document offers neither null nor a default."""

    model_config = ConfigDict(extra="forbid")

    unverified_retention_days: Days = _given(
        "Days an unverified or inactive address is kept after its last change (default "
        f"{DEFAULTS.unverified_retention_days}): Supabase `emails` rows not `active`."
    )
    results_retention_days: Days = _given(
        "Days a finished job and its items (leads and results) are kept after they finish "
        f"(default {DEFAULTS.results_retention_days})."
    )
    cache_retention_days: Days = _given(
        f"Most days a cached provider answer is kept (default {DEFAULTS.cache_retention_days}). "
        "The cache is shared by every workspace: the shortest setting of any workspace applies to all."
    )
    audit_retention_days: Days = _given(
        f"Days an audit entry is kept (default {DEFAULTS.audit_retention_days})."
    )
    review_required: StrictBool = _given(  # strict: 0 and "yes" are no JSON booleans
        "Found addresses start `pending_review` until approved (default false)."
    )
    refused_countries: Countries = _given(
        "ISO 3166-1 alpha-2 codes (e.g. DE): leads there are refused before any paid call (also "
        "when flagged); [] clears."
    )
    flagged_countries: Countries = _given(
        "ISO 3166-1 alpha-2 codes: leads there are processed and their results flagged; [] clears."
    )
    default_lawful_basis: LawfulBasis = _given(
        "The lawful basis a job records when it names none (default legitimate_interest)."
    )
    requeue_on_bounce: StrictBool = _given(
        "A hard bounce reported by the workspace's sending tool re-queues its lead for another address "
        "(default false; docs/bounces.md)."
    )
    bounce_sns_topics: TopicArns = _given(
        "Amazon SES: the ARNs of the SNS topics its bounce and complaint notifications go to (at most "
        f"{MAX_TOPICS}); [] clears."
    )
    bounce_sendgrid_key: SendGridKey = _given(
        'SendGrid: the Signed Event Webhook\'s verification key (base64, as SendGrid shows it); "" clears.'
    )
    bounce_postmark_password: PostmarkPassword = _given(
        "Postmark: the password of the webhook URL's basic auth (24-256 printable characters, no space); "
        'stored hashed, never shown; "" clears.'
    )
    reenrich_after_days: Days = _given(
        "Days a lead whose last enrichment ended invalid, not_found or risky is left out of `process_all` "
        f"jobs (default {DEFAULTS.reenrich_after_days}; `force` overrides; docs/auto-enrichment.md)."
    )
    reverify_after_days: Annotated[
        int, Field(ge=0, le=MAX_DAYS), AfterValidator(_reverify_days), BeforeValidator(_json_number)
    ] = _given(
        "Verified addresses older than this many days are verified again by the daily sweep (default "
        f"{DEFAULTS.reverify_after_days}; 0 turns it off; else at least {MIN_REVERIFY_DAYS}, the "
        "verification cache's life; docs/reverification.md)."
    )
    reverify_monthly_credits: Annotated[
        int, Field(ge=0, le=MAX_REVERIFY_CREDITS), BeforeValidator(_json_number)
    ] = _given(
        "Hunter credits a month the re-verification sweep may spend (default 0: none; 0.5 a verification; "
        "docs/reverification.md)."
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("null is not a setting: leave the field out to keep its value")
        return value

    def apply(self, current: WorkspaceSettings) -> WorkspaceSettings:
        """`current` with the given fields changed."""
        changes: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name == POSTMARK_PASSWORD:
                changes["bounce_postmark_password_sha256"] = password_digest(value)
                continue
            changes[name] = tuple(dict.fromkeys(value)) if isinstance(value, list) else value  # no repeats
        return dataclasses.replace(current, **changes)


class WorkspaceSettingsDirectory(WorkspaceSettingsStore, Protocol):
    """A settings store that can also list every workspace with settings of its own: the retention purge
    needs each workspace's periods, and the shared cache the shortest of them (`jobs.retention`). Both
    adapters (`aws.dynamo_settings`, `sqlite.settings`) are one."""

    async def all(self) -> dict[str, WorkspaceSettings]:
        """Every workspace that stored settings, with them (a workspace never set has the defaults)."""
        ...


async def change_settings(
    store: WorkspaceSettingsStore, workspace_id: str, change: WorkspaceSettingsChange
) -> WorkspaceSettings:
    """Read, apply, write. Two changes at the same moment: the last write wins whole (settings change
    rarely, by an operator or the workspace's owner; the answer shows what was stored)."""
    changed = change.apply(await store.get(workspace_id))
    await store.put(workspace_id, changed)
    return changed


def settings_row(settings: WorkspaceSettings) -> dict[str, Any]:
    """The settings as plain values (tuples as lists), for a store's row."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in _fields(settings)}


def settings_from_row(row: Mapping[str, Any]) -> WorkspaceSettings:
    """A stored row (numbers may be Decimals, lists lists) as settings: missing fields take their default,
    unknown ones are ignored."""
    values: dict[str, Any] = {}
    for name, default in _fields(DEFAULTS):
        if name not in row or row[name] is None:
            continue
        value = row[name]
        if isinstance(default, bool):
            values[name] = bool(value)
        elif isinstance(default, int):
            values[name] = int(value)
        elif isinstance(default, tuple):
            values[name] = tuple(str(v) for v in value)
        else:
            values[name] = str(value)
    return WorkspaceSettings(**values)


def _fields(settings: WorkspaceSettings) -> list[tuple[str, Any]]:
    return [(f.name, getattr(settings, f.name)) for f in dataclasses.fields(settings)]


class CachedSettings:
    """A settings store whose reads this process keeps for `seconds`: the job store reads a workspace's
    retention at every item it finishes, which must not cost a table read each. A `put` through this object
    is seen at once; one made elsewhere (the API, the CLI) within `seconds`."""

    def __init__(
        self,
        store: WorkspaceSettingsStore,
        seconds: float = SETTINGS_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._seconds = seconds
        self._clock = clock
        self._kept: dict[str, tuple[float, WorkspaceSettings]] = {}

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        kept = self._kept.get(workspace_id)
        now = self._clock()
        if kept is not None and kept[0] > now:
            return kept[1]
        settings = await self._store.get(workspace_id)
        self._kept[workspace_id] = (now + self._seconds, settings)
        return settings

    async def put(self, workspace_id: str, settings: WorkspaceSettings) -> None:
        await self._store.put(workspace_id, settings)
        self._kept[workspace_id] = (self._clock() + self._seconds, settings)


__all__ = [
    "DEFAULTS",
    "ISO_COUNTRIES",
    "LAWFUL_BASES",
    "MAX_COUNTRIES",
    "MAX_DAYS",
    "MIN_DAYS",
    "SETTINGS_CACHE_SECONDS",
    "CachedSettings",
    "LawfulBasis",
    "WorkspaceSettingsChange",
    "WorkspaceSettingsDirectory",
    "change_settings",
    "country_code",
    "settings_from_row",
    "settings_row",
]
