"""What banks write where they have nothing: one list for all channels.

Plain Python (no Odoo). Fetched lines, CAMT and MT940 files and the
statement identity all treat these as "no end-to-end id".
"""

from __future__ import annotations

from typing import Any

#: Banks' ways of saying "no end-to-end id" (SEPA ``NOTPROVIDED``, SWIFT
#: MT940 ``NONREF``; ``NOTAVAILABLE`` was in ING's own list).
NO_END_TO_END_ID = frozenset({"NOTPROVIDED", "NOT PROVIDED", "NOTAVAILABLE", "NONREF"})


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.strip().upper() in NO_END_TO_END_ID


def end_to_end_id(value: Any) -> str | None:
    """The id stripped; None when empty, not text, or a placeholder."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or value.upper() in NO_END_TO_END_ID:
        return None
    return value
