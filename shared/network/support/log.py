"""The peer-support log: every check-in and group meeting attended in a date range, as RFC 4180 CSV.

For accreditation and CPD records: date, time, kind, who (the colleague or the group), mode, minutes;
never a note (the timeline is read without its `note` attribute, so it never even reaches this code).
Then the totals per month. Written by the csv module with CRLF line ends and a UTF-8 byte order mark
(so Excel opens it as UTF-8); a cell a spreadsheet would take for a formula (starting with = + - @,
a tab or a carriage return) is prefixed with a single quote (OWASP's CSV injection advice).

Three DynamoDB calls: the member's timeline copies in the range, their meetings attended in the range,
and one BatchGetItem for the names and the zone (their profile, their own view of each pact, each group).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.adapters.models import Attended, Group, Item, Member, PactView, member_pk
from shared.domain.errors import InvalidField
from shared.network.support.use_cases import check_ins_since
from shared.pacts.planning import Ctx

MAX_SPAN = timedelta(days=3 * 366)  # at most three years in one file
DEFAULT_SPAN = timedelta(days=364)
MODES = {"phone": "Phone", "video": "Video", "in_person": "In person"}
GROUP_MODES = {"online": "Online", "place": "In person", "rotation": "In person"}
HEADER = ["Date", "Time", "Kind", "With", "Mode", "Minutes"]
TOTALS_HEADER = ["Month", "Check-ins", "Group meetings", "Minutes"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


@dataclass(frozen=True)
class Log:
    filename: str
    body: str


FIRST_YEAR, LAST_YEAR = 2000, 2100  # as every other date the API takes (schema_types.Day)
LATEST_OFFSET = timedelta(hours=14)  # the furthest zone ahead of UTC


def parse_day(field: str, text: str | None) -> date | None:
    if text is None or text == "":
        return None
    try:
        if len(text) != 10:
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidField(field, "a date as YYYY-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidField(field, f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return day


def date_range(start_text: str | None, end_text: str | None, today: date) -> tuple[date, date]:
    """The inclusive range asked for: `to` defaults to today, `from` to a year before `to`."""
    end = parse_day("to", end_text) or today
    start = parse_day("from", start_text) or end - DEFAULT_SPAN
    if end < start:
        raise InvalidField("to", "must not be before from")
    if end - start > MAX_SPAN:
        raise InvalidField("to", "at most three years after from")
    return start, end


def safe(value: object) -> str:
    """A cell as text, never a formula: a leading = + - @ tab or CR gets a ' in front."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def peer_support_log(ctx: Ctx, start_text: str | None, end_text: str | None) -> Log:
    # The range is in the member's zone, which their profile holds; it is read in the same batch as the
    # names, so the queries take a day's margin each side and the rows are kept by their local date.
    # "Today" is the member's own; nothing can have happened after now, so the latest date anywhere
    # on Earth (UTC+14) stands for it without knowing their zone yet.
    start, end = date_range(start_text, end_text, (ctx.now + LATEST_OFFSET).date())
    lower = datetime.combine(start - timedelta(days=1), time(), tzinfo=UTC)
    upper = datetime.combine(end + timedelta(days=1), time(23, 59), tzinfo=UTC)
    entries = check_ins_since(ctx.sub, lower, upper)
    meetings = [
        a
        for a in Attended.query(
            member_pk(ctx.sub), Attended.sk.between(f"ATTENDED#{lower:%Y-%m-%dT%H:%M:%SZ}", f"ATTENDED#{upper:%Y-%m-%dT%H:%M:%SZ}~")
        )
        if isinstance(a, Attended)
    ]
    keys = [Member.key(ctx.sub)]
    keys += [PactView.key(pid, ctx.sub) for pid in sorted({e.pact_id for e in entries})]
    keys += [Group.key(gid) for gid in sorted({a.group_id for a in meetings})]
    zone = "UTC"
    pact_names: dict[str, str] = {}
    groups: dict[str, Group] = {}
    for item in Item.batch_get(keys):
        if isinstance(item, Member):
            zone = item.time_zone
        elif isinstance(item, PactView):
            pact_names[item.pact_id] = item.colleague_name
        elif isinstance(item, Group):
            groups[item.group_id] = item
    tz = ZoneInfo(zone)
    rows: list[tuple[datetime, list[object]]] = []
    for entry in entries:
        local = entry.occurred_at.astimezone(tz)
        if start <= local.date() <= end:
            who = pact_names.get(entry.pact_id, "a former colleague")
            rows.append(
                (
                    local,
                    [
                        f"{local:%Y-%m-%d}",
                        f"{local:%H:%M}",
                        "Check-in",
                        who,
                        MODES.get(entry.mode, entry.mode),
                        int(entry.duration_minutes),
                    ],
                )
            )
    for meeting in meetings:
        local = meeting.starts_at.astimezone(tz)
        if start <= local.date() <= end:
            group = groups.get(meeting.group_id)
            minutes: object = int(group.duration_minutes) if group is not None else ""
            mode = GROUP_MODES.get(group.venue_kind, "In person") if group is not None else ""
            name = group.name if group is not None else meeting.group_name
            rows.append((local, [f"{local:%Y-%m-%d}", f"{local:%H:%M}", "Group meeting", name, mode, minutes]))
    rows.sort(key=lambda row: row[0])
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for local, row in rows:
        month = totals[f"{local:%Y-%m}"]
        month[0 if row[2] == "Check-in" else 1] += 1
        month[2] += int(row[5]) if isinstance(row[5], int) else 0
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows([safe(cell) for cell in row] for _, row in rows)
    writer.writerow([])
    writer.writerow(TOTALS_HEADER)
    writer.writerows([month, *counts] for month, counts in sorted(totals.items()))
    writer.writerow(["Total", sum(c[0] for c in totals.values()), sum(c[1] for c in totals.values()), sum(c[2] for c in totals.values())])
    return Log(filename=f"peer-support-log-{start.isoformat()}-to-{end.isoformat()}.csv", body=BOM + out.getvalue())
