"""Phone zones (`ingest --derive-phone-zones`): an account's empty phone_timezone filled with the zone
of its phone number's area code (libphonenumber's prefix data)."""
from __future__ import annotations

import re

from analysis.ingest.sql import drop, scalar, temp_table

_NOT_DIGIT = re.compile(r"[^0-9+]")
_NANP = re.compile(r"(?:\+1|1)?([2-9][0-9]{9})")  # a North American number, digits only: read without parsing


def phone_zone(number: str) -> str | None:
    """The one IANA zone of a phone number's area code, or None when libphonenumber gives none or several.

    The zone comes from libphonenumber's prefix data for geographic numbers
    (`time_zones_for_geographical_number`): the SPEC's phone zone is the area code's, so a number
    whose subscriber part the library would call invalid still gets its area code's zone; toll-free
    and other non-geographic prefixes map to many zones and get none. National numbers are read as US.
    """
    import phonenumbers  # imported here, not at module import: most commands never need it
    import phonenumbers.timezone

    nanp = _NANP.fullmatch(_NOT_DIGIT.sub("", number))
    if nanp:  # the common case, 10x faster than phonenumbers.parse
        parsed = phonenumbers.PhoneNumber(country_code=1, national_number=int(nanp.group(1)))
    else:
        try:
            parsed = phonenumbers.parse(number, "US")
        except phonenumbers.NumberParseException:
            return None
    zones = phonenumbers.timezone.time_zones_for_geographical_number(parsed)
    if len(zones) != 1 or zones[0] == phonenumbers.timezone.UNKNOWN_TIMEZONE:
        return None
    return zones[0]


def _nanp_prefix_digits() -> int:
    """National digits of a North American number that libphonenumber's zone data looks at (6: area
    code and exchange); its zone is a function of them, so one lookup serves every number sharing them."""
    from phonenumbers.tzdata import TIMEZONE_DATA

    return max(len(prefix) for prefix in TIMEZONE_DATA if prefix.startswith("1")) - 1


def _look_up_zones(con, digits: int) -> None:
    """The zones of the numbers in `_ingest_phones`: `_ingest_zone_by_prefix` (North American
    numbers, by their first `digits` national digits) and `_ingest_zone_by_number` (any other)."""
    prefixes = [r[0] for r in con.execute("select distinct left(nanp, $n) from _ingest_phones where nanp <> ''", {"n": digits}).fetchall()]
    others = [r[0] for r in con.execute("select phone from _ingest_phones where nanp = ''").fetchall()]
    known = {r[0] for r in con.execute("select name from _ingest_zones").fetchall()}
    # a zone DuckDB cannot convert with would break the contact rules: keep only names it knows
    zoned_prefixes = [(p, z) for p in prefixes if (z := phone_zone("+1" + p.ljust(10, "0"))) in known]
    zoned_numbers = [(n, z) for n in others if (z := phone_zone(n)) in known]
    temp_table(con, "_ingest_zone_by_prefix", {"prefix": [p for p, _ in zoned_prefixes], "zone": [z for _, z in zoned_prefixes]})
    temp_table(con, "_ingest_zone_by_number", {"phone": [n for n, _ in zoned_numbers], "zone": [z for _, z in zoned_numbers]})


def derive_phone_zones(con) -> int:
    """Fill phone_timezone of staged valid accounts that have a phone but no zone; distinct numbers looked up.

    North American numbers (the bulk) are grouped in SQL by area code and exchange, one library
    lookup per group; any other number is parsed by the library one distinct number at a time.
    """
    con.execute(r"""
        create or replace temp table _ingest_phones as
        select distinct phone,
               regexp_extract(regexp_replace(phone, '[^0-9+]', '', 'g'), '^(\+1|1)?([2-9][0-9]{9})$', 2) as nanp
        from _ingest_checked
        where reason is null and phone_timezone is null and phone is not null""")
    digits = _nanp_prefix_digits()
    _look_up_zones(con, digits)
    con.execute("""
        update _ingest_checked as c set phone_timezone = z.zone
        from (
            select p.phone, coalesce(k.zone, o.zone) as zone
            from _ingest_phones as p
            left join _ingest_zone_by_prefix as k on p.nanp <> '' and k.prefix = left(p.nanp, $n)
            left join _ingest_zone_by_number as o on o.phone = p.phone
        ) as z
        where c.reason is null and c.phone_timezone is null and c.phone = z.phone and z.zone is not null""", {"n": digits})
    filled = scalar(con, "select count(*) from _ingest_checked where reason is null and phone_timezone is not null")
    drop(con, "_ingest_phones", "_ingest_zone_by_prefix", "_ingest_zone_by_number")
    return filled
