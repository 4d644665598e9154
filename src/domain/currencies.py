"""The currencies money may be in: ISO 4217 codes from pycountry, a maintained
copy of the standard (Debian's iso-codes), so a new or withdrawn code arrives
with a package update rather than an edit here. Plain data, no I/O after import."""

from __future__ import annotations

import pycountry

NOT_MONEY = frozenset({"XTS", "XXX"})  # ISO's own codes for "testing" and "no currency"
ISO_4217: frozenset[str] = frozenset(str(c.alpha_3) for c in pycountry.currencies) - NOT_MONEY
