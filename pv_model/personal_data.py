"""Values that look like personal data, found by what they are rather than by the field they sit in - pure.

A station may put anything anywhere: an ID number as a record id, a phone number in a note, a bank
card in a field named `account`. `mask_personal_text` masks, anywhere in a text:

- ID numbers: 18 characters (17 digits and a digit or X) or the legacy 15 digits, also written in
  groups with spaces or dashes - shown as the first 6 and last 4 (`110105********002X`);
- mobile numbers (11 digits starting 13-19, with an optional +86 / 0086) and landlines with an area
  code (`010-12345678`) - the first 3 and last 4 digits;
- e-mail addresses - the first character of the name and the domain;
- bank card numbers: 15 to 19 digits whose Luhn checksum holds - the last 4 digits.

Digits after a decimal point are never taken for a number of their own: `32.059999999999995` is a
coordinate, not a 15-digit ID.
"""

from __future__ import annotations

import re

_GAP = r"[ \-]?"  # people write numbers in groups: "110105 19491231 002X", "138-1234-5678"
# Not inside a longer number, and not the fraction of a decimal number.
_START = r"(?<![0-9])(?<![0-9]\.)"
_END = r"(?![0-9])"

_EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
_ID18 = re.compile(_START + r"[0-9](?:" + _GAP + r"[0-9]){16}" + _GAP + r"[0-9Xx](?![0-9A-Za-z])")
_ID15 = re.compile(_START + r"[0-9](?:" + _GAP + r"[0-9]){14}" + _END)
_MOBILE = re.compile(_START + r"(?:(?:\+|00)86" + _GAP + r")?1[3-9][0-9](?:" + _GAP + r"[0-9]){8}" + _END)
_LANDLINE = re.compile(_START + r"\(?0[0-9]{2,3}\)?[ \-][0-9]{7,8}" + _END)
_CARD = re.compile(_START + r"[0-9](?:" + _GAP + r"[0-9]){14,18}" + _END)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit() or c in "Xx").upper()


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a card number (ISO/IEC 7812)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _keep(digits: str, first: int, last: int) -> str:
    return digits[:first] + "*" * (len(digits) - first - last) + digits[len(digits) - last :]


def _id(match: re.Match) -> str:
    return _keep(_digits(match.group(0)), 6, 4)


def _phone(match: re.Match) -> str:
    digits = _digits(match.group(0))
    national = digits[-11:] if len(digits) > 11 and digits.startswith(("86", "0086")) else digits
    return _keep(national, 3, 4)


def _landline(match: re.Match) -> str:
    return _keep(_digits(match.group(0)), 3, 4)


def _card(match: re.Match) -> str:
    digits = _digits(match.group(0))
    return _keep(digits, 0, 4) if luhn_ok(digits) else match.group(0)


def _email(match: re.Match) -> str:
    return f"{match.group(1)}***@{match.group(2)}"


def mask_personal_text(text: str) -> str:
    """The text with every ID, phone, e-mail and bank card number in it masked (see the module's rule)."""
    if not text:
        return text
    text = _EMAIL.sub(_email, text)
    if not any(c.isdigit() for c in text):
        return text
    # Longest forms first: a masked number has '*' in it and is never matched again.
    text = _ID18.sub(_id, text)
    text = _CARD.sub(_card, text)
    text = _ID15.sub(_id, text)
    text = _MOBILE.sub(_phone, text)
    return _LANDLINE.sub(_landline, text)


def looks_personal(text: str) -> bool:
    """True when the text holds something `mask_personal_text` would mask."""
    return mask_personal_text(text) != text
