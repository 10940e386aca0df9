"""Lambda SnapStart runtime hooks: what a snapshot must not carry into the environments restored from it.

With SnapStart (template.yaml, Globals) Lambda runs a function's init once per published version,
snapshots the process and resumes every cold start from that snapshot, so each restored
environment starts with the same memory:
- network clients: a botocore client holds a connection pool, and a session the credentials it
  resolved. After a restore both are made again; the new session keeps the old one's data loader
  (the service models read so far are plain data, and reading them is most of a client's cost);
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
    """Every AWS client and botocore session is made again on next use; the service models already loaded are kept.

    A new session resolves the credentials again (the snapshot's may be stale); it is handed the old
    session's data loader, which holds the JSON service models and endpoint rules read so far.
    """
    from botocore.session import get_session

    from shared.adapters import aws

    aws.client.cache_clear()
    for model in _models(Item):
        table = vars(model).get("_connection")  # PynamoDB keeps a model's table connection on its class once used
        if table is None:
            continue
        connection = table.connection
        old = getattr(connection._local, "session", None)  # noqa: SLF001 - PynamoDB's per-thread session
        if old is not None:
            session = get_session()
            session.register_component("data_loader", old.get_component("data_loader"))
            connection._local.session = session  # noqa: SLF001
        connection._client = None  # noqa: SLF001 - PynamoDB makes it again on next use (its `client` property)


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
