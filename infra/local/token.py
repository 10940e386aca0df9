"""`make token EMAIL=...`: a bearer token for the local stack, alone on the last line."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from infra import cfn
from infra.local.auth import member_sub, mint_token

# One @, something before it, a dotted domain after it, no spaces: what Cognito would take as a sign-in email.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def is_email_address(text: str) -> bool:
    return len(text) <= 254 and _EMAIL.fullmatch(text.strip()) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description="Mint a local access token (the local stand-in for a Cognito sign-in).")
    parser.add_argument("email")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="seconds until it expires")
    parser.add_argument("--state-dir", type=Path, default=cfn.ROOT / ".local")
    args = parser.parse_args()
    if not is_email_address(args.email):
        # The value is not repeated: what was typed may still be somebody's address.
        print("make token: EMAIL must be an email address, e.g. make token EMAIL=you@example.org", file=sys.stderr)
        sys.exit(2)
    token = mint_token(args.state_dir, args.email, ttl_seconds=args.ttl)
    print(f"# member {member_sub(args.email)}, valid {args.ttl // 60} minutes")
    print(token)


if __name__ == "__main__":
    main()
