"""Time zone names a dashboard user may choose: the IANA tz database's, as zoneinfo knows
them on this machine (`zoneinfo.available_timezones()`: /usr/share/zoneinfo or the tzdata
package), e.g. `Europe/Berlin`, `Asia/Tokyo`, `UTC`."""

from __future__ import annotations

import zoneinfo
from functools import cache

MAX_NAME_LENGTH = 64
"""Characters of a zone name; the longest in the database has 32."""


NOT_ZONES = frozenset({"localtime"})
"""Files beside the zones that `available_timezones` lists as if they were ones: Debian's
/usr/share/zoneinfo/localtime links to the machine's /etc/localtime, a name no browser
knows and whose meaning is this server's setting."""


@cache
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - NOT_ZONES


def parse_zone(text: str) -> str | None:
    """The chosen zone; None for "" (the browser's own). Raises ValueError naming the field
    and the value when the name is not in the database."""
    name = text.strip()
    if not name:
        return None
    if len(name) > MAX_NAME_LENGTH or name not in _known():
        shown = name[:MAX_NAME_LENGTH] + ("…" if len(name) > MAX_NAME_LENGTH else "")
        raise ValueError(
            f"zone: {shown!r} is not a time zone name of the tz database"
            " (such as Europe/Berlin, Asia/Tokyo or UTC)"
        )
    return name
