"""`make run`: start the whole system locally and serve it until Ctrl-C."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
from pathlib import Path

from infra.local.stack import LocalStack, PortInUse


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the peer-support stack locally on moto.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--state-dir", type=Path, default=None, help="where the local signing key lives (default .local/)")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--bench-baseline", action="store_true", help="also serve GET /_bench/baseline, a do-nothing handler (make bench)")
    args = parser.parse_args()

    stack = LocalStack(port=args.port, state_dir=args.state_dir, quiet=args.quiet, baseline=args.bench_baseline)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a supervisor's stop
        signal.signal(sig, lambda *_: stopped.set())
    try:
        stack.start()
    except PortInUse as exc:
        print(exc, file=sys.stderr, flush=True)
        sys.exit(1)
    print(
        "\n".join(
            [
                "Peer support is running locally (moto, no AWS account).",
                f"  API         {stack.base_url}",
                f"  Swagger UI  {stack.base_url}/docs",
                f"  OpenAPI     {stack.base_url}/openapi.json",
                f"  Outbox      {stack.base_url}/_local/outbox",
                f"  Clock       {stack.base_url}/_local/clock",
                "  Token       make token EMAIL=you@example.org",
                "Ctrl-C stops it.",
            ]
        ),
        flush=True,
    )
    try:
        stopped.wait()
    finally:
        stack.stop()
        print("stopped.", flush=True)
        # Exiting, the interpreter tears every module down and runs the cycle collector over what
        # is left: everything moto holds (tables, copies, messages). That grew with use: 0.6 s
        # fresh, 2.6 s with 30,000 items, longer after a long session. Frozen objects are left
        # to the operating system; atexit handlers (coverage's, for one) still run.
        gc.freeze()


if __name__ == "__main__":
    main()
