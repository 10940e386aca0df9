"""What every capability's request and response bodies share: field types that validate, strict models, a page.

Pydantic, for the HTTP API only: validated on the way in, documented in /openapi.json.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from shared.domain.tags import MAX_LABEL_CHARS, one_per_tag

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_NAMES: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Mode = Literal["phone", "video", "in_person"]
Channel = Literal["email", "sms"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER = re.compile(r"^\s*[-+]?\d+(\.\d*)?\s*$")


def iso_text(value: object) -> object:
    """Dates and times come as ISO 8601 text: pydantic alone would read a number, or digits in a string, as Unix time."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError("give an ISO 8601 date or time as text, e.g. 2026-12-08 or 2026-12-08T08:30:00Z")
    return value


def text_with_line_breaks(value: str) -> str:
    """Free text such as a note: line breaks and tabs are fine, other control codes (NUL, ESC) are not."""
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in value):
        raise ValueError("may not contain control characters other than line breaks and tabs")
    return value


Note = Annotated[str, Field(max_length=2000), AfterValidator(text_with_line_breaks)]


def e164(value: str) -> str:
    import phonenumbers  # ~40 ms of import, paid only by the requests that carry a phone number

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError("give an international number starting with +, e.g. +353 85 123 4567") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("this is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def time_zone(value: str) -> str:
    try:
        if value.startswith(("/", ".")) or value != value.strip():
            raise ValueError
        ZoneInfo(value)
    except (ValueError, KeyError, OSError):
        raise ValueError("not an IANA time zone such as Europe/Dublin or America/New_York") from None
    return value


def hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError("use 24-hour HH:MM, e.g. 08:30")
    return value


def email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not value.isprintable() or not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


Phone = Annotated[str, AfterValidator(e164)]
TimeZone = Annotated[str, AfterValidator(time_zone)]
HHMM = Annotated[str, AfterValidator(hhmm)]
Email = Annotated[str, AfterValidator(email)]
# Specialties or modalities as typed, one per normalised tag (the first typing wins): tags and labels are made of them.
Tags = Annotated[list[Annotated[str, Field(max_length=MAX_LABEL_CHARS)]], Field(max_length=20), AfterValidator(one_per_tag)]


def no_control_characters(value: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValueError("may not contain line breaks or control characters")
    return value


def instant(value: datetime) -> datetime:
    """An aware instant within this century (no year 1 or 9999: their UTC conversion overflows)."""
    if value.tzinfo is None:
        raise ValueError("give the time with a zone, e.g. 2026-12-08T08:30:00Z")
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value


def calendar_day(value: date) -> date:
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value


Name = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(no_control_characters)]
Instant = Annotated[datetime, BeforeValidator(iso_text), AfterValidator(instant)]
Day = Annotated[date, BeforeValidator(iso_text), AfterValidator(calendar_day)]


class Schema(BaseModel):
    """Every request and response body. Its validator and serializer are built when first used, not at import:
    the API defines some 70 models and a request needs two or three, so building them all made up about a
    fifth of a cold start (`make bench`). The OpenAPI document builds the ones it shows when it is asked for.
    """

    model_config = ConfigDict(defer_build=True)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


T = TypeVar("T")


class Page(Schema, Generic[T]):
    items: list[T]
    next: str | None = Field(description="Pass as ?next= for the following page; null on the last one.")


WEEKDAY_CODES = dict(zip(WEEKDAY_NAMES, ("MO", "TU", "WE", "TH", "FR", "SA", "SU"), strict=True))
