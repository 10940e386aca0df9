"""`make invoke FN=<name> [AT=<instant>]`: run a scheduled function now, on the running local stack."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def main() -> None:
    parser = argparse.ArgumentParser(description="Trigger a scheduled function of the running local stack.")
    parser.add_argument("function", help="logical id from template.yaml, with or without 'Function'")
    parser.add_argument("--at", default="", help="the scheduled instant, e.g. 2026-12-08T09:00:00Z (default: the local clock)")
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '3000')}")
    args = parser.parse_args()
    body = json.dumps({"at": args.at} if args.at else {}).encode()
    request = urllib.request.Request(
        f"{args.url}/_local/invoke/{args.function}", data=body, method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            print(json.dumps(json.load(response), indent=2))
    except urllib.error.HTTPError as exc:
        print(exc.read().decode(), file=sys.stderr)
        sys.exit(1)
    except urllib.error.URLError as exc:
        print(f"the local stack is not answering at {args.url} ({exc.reason}); start it with `make run`", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
