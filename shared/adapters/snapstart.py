"""Lambda SnapStart runtime hooks: what a snapshot must not carry into the environments restored from it.

With SnapStart (template.yaml, Globals) Lambda runs a function's init once per published version,
snapshots the process and resumes every cold start from that snapshot, so each restored
environment starts with the same memory:
- network clients: a botocore client holds a connection pool, and whatever the credentials
  were when it was made. After a restore each is made again (the botocore session stays: the
  service models it loaded are plain data, and reloading them is most of a client's cost);
- `random`: its state would be the same in every restored environment, so it is seeded again
  from the operating system. Our identifiers and secrets come from `secrets` and `uuid4`
  (os.urandom), which a snapshot does not repeat; libraries (botocore's retry jitter) use `random`.
Before the snapshot the DynamoDB client is made once, no request sent: the snapshot then holds
its service model and endpoint rules, and the first request after a restore skips loading them.

The runtime provides `snapshot_restore_py`; elsewhere (tests, the local stack) it is absent and
`register` does nothing. `shared.adapters.db` registers the hooks when first imported.
"""

from __future__ import annotations

import importlib
import random
from typing import Any

from shared.adapters.models import Item


def before_snapshot() -> None:
    from shared.adapters.db import connection

    connection().client  # noqa: B018 - made for its side effect: the service model loaded into the session


def after_restore() -> None:
    random.seed()  # from os.urandom: no two restored environments draw the same numbers
    forget_clients()


def forget_clients() -> None:
    """Every AWS client is made again on next use, from the same botocore session (its loaded models kept)."""
    from shared.adapters import aws

    aws.client.cache_clear()
    for model in _models(Item):
        table = vars(model).get("_connection")  # PynamoDB keeps a model's table connection on its class once used
        if table is not None:
            table.connection._client = None  # noqa: SLF001 - PynamoDB makes it again on next use (its `client` property)


def _models(root: type) -> list[type]:
    found, stack = [], [root]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def register(hooks: Any = None) -> bool:
    """Register the hooks with Lambda's runtime; False where there is no runtime to register with.

    `hooks` provides `register_before_snapshot` and `register_after_restore`: by default the
    runtime's `snapshot_restore_py`, which only Lambda's Python runtimes have.
    """
    if hooks is None:
        try:
            hooks = importlib.import_module("snapshot_restore_py")
        except ImportError:
            return False
    hooks.register_before_snapshot(before_snapshot)
    hooks.register_after_restore(after_restore)
    return True
