"""Load a function's handler the way Lambda does: by the CodeUri and Handler that template.yaml deploys."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra import cfn

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that Powertools and our handlers read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def __post_init__(self) -> None:
        self.invoked_function_arn = self.invoked_function_arn or f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load_handler(logical_id: str, functions: dict[str, cfn.Function] | None = None) -> Handler:
    """Import `functions/<name>/<module>.py` under a name of its own and return its handler.

    As on Lambda, the function's CodeUri is on sys.path, so each function's module
    is imported once per process (a cold start) and reused afterwards.
    """
    fn = (functions or cfn.functions())[logical_id]
    module_name = f"lambda_{logical_id}"
    module = sys.modules.get(module_name)
    if module is None:
        if str(fn.code_uri) not in sys.path:
            sys.path.append(str(fn.code_uri))
        spec = importlib.util.spec_from_file_location(module_name, fn.module_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {fn.module_file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    handler: Handler = getattr(module, fn.attribute)
    return handler


def invoke(logical_id: str, event: dict[str, Any]) -> Any:
    return load_handler(logical_id)(event, LambdaContext(function_name=logical_id))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = "eu-west-1") -> dict[str, Any]:
    """The event Lambda's SQS event source delivers for messages from ReceiveMessage."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }
