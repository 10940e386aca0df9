"""SnapStart: the restore hooks make the clients again and re-seed `random`; registered where Lambda's runtime is."""

from __future__ import annotations

import random
import types
from collections.abc import Callable

from infra import cfn
from shared.adapters import aws, snapstart
from shared.adapters.db import connection
from shared.adapters.models import Item, Member


def test_after_restore_makes_every_client_and_session_again_keeping_the_loaded_models() -> None:
    sqs, dynamodb, session = aws.client("sqs"), connection().client, connection().session
    loader = session.get_component("data_loader")
    member_table = Member._get_connection()  # a subclass that made its own table connection
    member_client = member_table.connection.client

    snapstart.after_restore()

    assert aws.client("sqs") is not sqs
    assert connection().client is not dynamodb
    assert Member._get_connection().connection.client is not member_client
    assert connection().session is not session  # credentials resolved again
    assert connection().session.get_component("data_loader") is loader  # the service models read so far are kept
    assert Item._get_connection().connection is connection()


def test_two_environments_restored_from_one_snapshot_draw_different_numbers() -> None:
    draws = []
    for _ in range(2):
        random.seed(1234)  # the state both environments would share from the snapshot
        snapstart.after_restore()
        draws.append([random.random() for _ in range(4)])
    assert draws[0] != draws[1]


def test_before_snapshot_loads_the_dynamodb_client_without_a_request() -> None:
    # Unit tests have no sockets: a request would fail here.
    snapstart.forget_clients()
    snapstart.before_snapshot()
    assert connection()._client is not None


def test_hooks_are_registered_with_the_runtime_and_skipped_without_it() -> None:
    registered: dict[str, list[Callable[[], None]]] = {"before": [], "after": []}
    runtime = types.SimpleNamespace(
        register_before_snapshot=registered["before"].append,
        register_after_restore=registered["after"].append,
    )
    assert snapstart.register(runtime) is True
    assert registered == {"before": [snapstart.before_snapshot], "after": [snapstart.after_restore]}
    assert snapstart.register() is False  # no snapshot_restore_py here: not Lambda's runtime


def test_snapstart_is_on_for_published_versions_behind_one_alias() -> None:
    function_globals = cfn.template()["Globals"]["Function"]
    assert function_globals["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    alias = function_globals["AutoPublishAlias"]
    assert alias
    # The one invoker SAM does not wire to the alias itself: Cognito's trigger (and its permission) name it.
    pool = cfn.resource("UserPool")["Properties"]["LambdaConfig"]["PreTokenGenerationConfig"]
    assert pool["LambdaArn"] == {"Ref": "TokenClaimsFunction.Alias"}
    assert cfn.resource("TokenClaimsInvokePermission")["Properties"]["FunctionName"] == {"Ref": "TokenClaimsFunction.Alias"}
