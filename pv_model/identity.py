"""ID card numbers: normalising for keys, validating, and masking wherever a person looks."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

# ASCII digits only, matched whole: `\d` takes Devanagari or Arabic-Indic digits too, and `$` a final newline.
_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")


class InvalidIdCardNumber(ValueError):
    """The field cannot be an ID card number; the message never repeats the raw value."""


def normalize_id_card(raw: object) -> str:
    """Canonical form of an ID card number: ASCII digits and an upper-case X.

    Accepts the forms seen in the wild (lowercase x, full-width characters, spaces, legacy
    15-digit numbers). Anything else - path tricks, slashes, control characters, empty - is
    refused, so it can never end up inside an object key.
    """
    if raw is None or (isinstance(raw, float) and raw != raw):
        raise InvalidIdCardNumber("invalid ID card number: empty")
    text = unicodedata.normalize("NFKC", str(raw))
    text = re.sub(r"\s+", "", text).upper()
    if _ID18.fullmatch(text) or _ID15.fullmatch(text):
        return text
    reason = "empty" if not text else f"{len(text)} characters, not an 18- or 15-digit number"
    raise InvalidIdCardNumber(f"invalid ID card number: {reason}")


@functools.lru_cache(maxsize=65536)
def id_checksum_ok(normalized: str) -> bool:
    """True when an 18-character number has a real birth date and the right GB 11643 check character.

    Not the area code: a number keeps the area code of its first registration, which python-stdnum's
    database may say was created or renamed after the birth year (stdnum's is_valid then says no to a
    valid number). id_area_known asks that question apart."""
    if len(normalized) != 18 or not normalized[:17].isdigit():
        return False
    try:
        ric.get_birth_date(normalized)
    except ValidationError:
        return False
    return ric.calc_check_digit(normalized) == normalized[17]


@functools.lru_cache(maxsize=65536)
def id_area_known(normalized: str) -> bool:
    """Whether python-stdnum's area database knows the number's area code at its birth date (~0.2 ms, cached):
    information for an auditor, never a reason to call a number invalid."""
    try:
        ric.get_birth_place(normalized)
    except ValidationError:
        return False
    return True


def mask_id(value: object) -> str:
    """First 6 and last 4 characters, the rest as '*': what people may see of an ID number."""
    text = "" if value is None else str(value)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_ids_in(text: str, id_numbers: list[str] | set[str]) -> str:
    """Replace every occurrence of the given ID numbers in a message by their masked form."""
    return mask_values_in(text, id_numbers, mask_id)


def mask_name(value: str) -> str:
    """A person's name or phone number as people may see it: the first character, the rest as '*'."""
    return value[:1] + "*" * (len(value) - 1)


def mask_values_in(text: str, values: Iterable[str], mask: Callable[[str], str] = mask_name) -> str:
    """Replace every occurrence of the given values (longest first) in text by their masked form."""
    for value in sorted(set(values), key=len, reverse=True):
        if value:
            text = text.replace(value, mask(value))
    return text


# Bounded by non-digits only: "photo11010519491231002X.jpg" and "张三1101..." are masked too.
_ID_LIKE = re.compile(r"(?<![0-9])(\d{6})(\d{5,8})(\d{3}[\dXx])(?![0-9])")


def mask_id_like(text: str) -> str:
    """Mask anything in free text that looks like a 15- or 18-character ID number."""
    return _ID_LIKE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
