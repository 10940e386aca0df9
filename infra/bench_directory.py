"""The colleague directory at scale, on moto (a row group of `make bench`): DynamoDB calls per search.

10,000 members, all in the directory: two specialties and a modality each (from 30 and 8 tags, so a
term holds a few hundred cards), one of 10 regions, and a circle of 10 colleagues each (a ring: member
n has pacts with n±1..5), so the searcher has 10 colleagues and about 10 colleagues of colleagues.
Searches and suggestions go through the API handler as API Gateway calls it; each prints a
`BENCH {json}` line with its DynamoDB calls (counted as the tests count them), Scans and results.
Figures only: nothing here asserts, and no wall-clock time is a goal.

Run alone: `python -m infra.bench_directory` (BENCH_DIRECTORY_MEMBERS=1000 for a quick look).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.bench import Row

MEMBERS = int(os.environ.get("BENCH_DIRECTORY_MEMBERS", "10000"))
SPECIALTIES = [
    "trauma", "ptsd", "grief", "bereavement", "couples", "relationships", "addiction", "eating-disorders", "children",
    "anxiety", "depression", "perinatal", "ocd", "self-harm", "psychosis", "autism", "adhd", "chronic-pain", "sleep",
    "anger", "stress", "burnout", "identity", "lgbtq", "migration", "loss", "shame", "attachment", "dissociation", "pain",
]  # fmt: skip
MODALITIES = ["cbt", "emdr", "dbt", "act", "person-centred", "psychodynamic", "systemic", "gestalt"]
REGIONS = ["Cork", "Dublin", "Galway", "Limerick", "Kerry", "Sligo", "Wexford", "Mayo", "Donegal", "Louth"]
RING = 5  # colleagues on each side
STAMP = "2026-11-01T00:00:00.000000+0000"
SEARCHER = "ann@example.org"
SEARCHES = [
    "/directory?specialty=ptsd",  # three terms (trauma's group)
    "/directory?specialty=trauma&region=cork",  # one term read (the region), the specialty checked on the cards
    "/directory?modality=cbt&limit=50",
    "/directory?q=somewhere-else",  # free text outside the vocabulary: s:, m: and r:
]


def main() -> None:
    from infra.benchenv import use_bench_env

    use_bench_env()
    import boto3
    from moto import mock_aws

    from infra import cfn
    from infra.callcount import counting_calls
    from infra.local.auth import member_sub
    from tests.helpers import call, member

    with mock_aws(), counting_calls() as calls:
        ddb = boto3.client("dynamodb")
        cfn.create_table(ddb, os.environ["TABLE_NAME"])
        boto3.client("events").create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
        member(SEARCHER, "Ann")
        me = member_sub(SEARCHER)
        body = {"display_name": "Ann", "region": "Cork", "specialties": ["trauma"], "in_directory": True}
        assert call("PUT", "/members/me", email=SEARCHER, body=body).status == 200
        items = _seed(ddb, me)
        _report({"stage": "seeded", "members": MEMBERS, "items": items})
        for path in [*SEARCHES, "/suggestions"]:
            calls.clear()
            reply = call("GET", path, email=SEARCHER)
            dynamodb = {op: n for op, n in calls.items() if op.startswith("dynamodb.")}
            found = reply.json()["items"] if reply.status == 200 else []
            _report(
                {
                    "stage": "search",
                    "route": f"GET {path}",
                    "status": reply.status,
                    "calls": sum(dynamodb.values()),
                    "scans": dynamodb.get("dynamodb.Scan", 0),
                    "results": len(found),
                    "closest": found[0]["closeness"] if found and "closeness" in found[0] else None,
                }
            )


def _seed(ddb: Any, me: str) -> int:
    """Members, their directory entries and circles straight into the table (batch writes of 25)."""
    from shared.domain.directory import entry_terms

    table = os.environ["TABLE_NAME"]
    requests: list[dict[str, Any]] = []
    written = 0

    def put(item: dict[str, Any]) -> None:
        nonlocal written
        requests.append({"PutRequest": {"Item": item}})
        written += 1
        if len(requests) == 25:
            flush()

    def flush() -> None:
        if requests:
            ddb.batch_write_item(RequestItems={table: list(requests)})
            requests.clear()

    def s(value: str) -> dict[str, str]:
        return {"S": value}

    def who(n: int) -> str:
        return me if n == 0 else f"bench-{n:06d}"

    for n in range(MEMBERS):
        sub = who(n)
        specialties = sorted({SPECIALTIES[n % 30], SPECIALTIES[(n * 7 + 3) % 30]})
        modalities = [MODALITIES[n % 8]]
        region = REGIONS[n % 10]
        name = f"Member {n:05d}"
        links = [
            f"{who((n + d) % MEMBERS)}|PACT#p{min(n, (n + d) % MEMBERS)}-{max(n, (n + d) % MEMBERS)}" for d in range(-RING, RING + 1) if d
        ]
        put({"pk": s(f"MEMBER#{sub}"), "sk": s("CIRCLE"), "kind": s("circle"), "links": {"SS": links}})
        if n == 0:
            continue  # the searcher's profile and entries came through the API
        put(
            {
                "pk": s(f"MEMBER#{sub}"),
                "sk": s("PROFILE"),
                "kind": s("member"),
                "display_name": s(name),
                "email": s(f"{sub}@bench.example.org"),
                "time_zone": s("Europe/Dublin"),
                "specialties": {"SS": specialties},
                "modalities": {"SS": modalities},
                "region_name": s(region),
                "in_directory": {"BOOL": True},
                "created_at": s(STAMP),
                "updated_at": s(STAMP),
                "version": {"N": "1"},
            }
        )
        card = {
            "kind": s("directory_entry"),
            "member_sub": s(sub),
            "display_name": s(name),
            "region_name": s(region),
            "specialties": {"L": [s(t) for t in specialties]},
            "modalities": {"L": [s(t) for t in modalities]},
        }
        for term in sorted(entry_terms(specialties, modalities, region)):
            put({"pk": s(f"MEMBER#{sub}"), "sk": s(f"DIR#{term}"), "gsi2pk": s(f"DIR#{term}"), "gsi2sk": s(sub), **card})
    flush()
    return written


def _report(stage: dict[str, Any]) -> None:
    print("BENCH " + json.dumps(stage), flush=True)


# ------------------------------------------------------------------ rows for `make bench`

DIRECTORY_GOAL = 5  # DynamoDB calls per directory search
SUGGESTIONS_GOAL = 3


def directory_rows() -> Iterator[Row]:
    """The rows `make bench` prints (runs this module in a child process, as the other benches)."""
    from infra.bench import Row, _child_rows, progress

    progress(f"the directory at {MEMBERS:,} members, on moto: seeding the table takes a few minutes")
    members = MEMBERS
    for r in _child_rows("infra.bench_directory"):
        if r["stage"] == "seeded":
            members = r["members"]
            yield Row("directory: members / items seeded", f"{members} / {r['items']}", "profiles, directory entries, circles")
            continue
        goal = SUGGESTIONS_GOAL if r["route"].startswith("GET /suggestions") else DIRECTORY_GOAL
        misses = []
        if r["calls"] > goal:
            misses.append(f"≤{goal} DynamoDB calls")
        if r["scans"]:
            misses.append("0 Scans")
        if r["status"] != 200:
            misses.append(f"status {r['status']}")
        note = f"goal <= {goal}, no Scan; {r['results']} results"
        yield Row(f"at {members:,}: DynamoDB calls {r['route']}", f"{r['calls']} ({r['scans']} scan)", note, ", ".join(misses))


if __name__ == "__main__":
    main()
