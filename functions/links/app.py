"""The public one-tap link pages, /c/<token> and /u/<token>: a GET shows, a POST acts. No sign-in: the link is the key.

API Gateway has already routed the request (four routes in template.yaml, the token a path
parameter), so this handler reads the event's data class rather than loading an HTTP
resolver: these pages open from a phone, and the resolver's import alone is ~85 ms.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.observability import logger
from shared.adapters.settings import get_settings
from shared.links.actions import Page, perform, show
from shared.pacts.planning import Ctx

# The page's only stylesheet, inline and allowed by its hash: nothing else may load or run.
STYLE = (
    "body{margin:0;font:18px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#222;background:#faf8f5}"
    "main{max-width:28rem;margin:0 auto;padding:1.5rem}h1{font-size:1.5rem;line-height:1.25}"
    "form{display:grid;gap:.75rem;margin-top:1.5rem}"
    "button{font:inherit;min-height:3rem;padding:.75rem 1rem;border-radius:.5rem;border:2px solid #2f6f5e;background:#fff;color:#2f6f5e}"
    "button:first-of-type{background:#2f6f5e;color:#fff}button:focus{outline:3px solid #f2b705;outline-offset:2px}"
)
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def render(page: Page, action: str) -> dict[str, Any]:
    lines = "".join(f"<p>{escape(line)}</p>" for line in page.lines)
    form = ""
    if page.buttons:
        buttons = "".join(f'<button type="submit" name="choice" value="{escape(v)}">{escape(label)}</button>' for v, label in page.buttons)
        nonce = f'<input type="hidden" name="nonce" value="{escape(page.nonce or "")}">'
        form = f'<form method="post" action="{escape(action)}">{nonce}{buttons}</form>'
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
        f"<title>{escape(page.title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{escape(page.title)}</h1>{lines}{form}</main></body></html>"
    )
    headers = {**HEADERS, "Content-Type": "text/html; charset=utf-8"}
    return {"statusCode": page.status, "headers": headers, "body": body, "isBase64Encoded": False}


def _form(event: APIGatewayProxyEventV2) -> dict[str, str] | None:
    """The posted fields: url-encoded (our page) or multipart (RFC 8058 mail clients); None if unreadable."""
    try:
        raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
        content_type = event.headers.get("content-type") or ""
        if content_type.lower().startswith("multipart/form-data"):
            # Only a mail client's one-click unsubscribe posts this: the email package's parser (~30 ms to
            # import) is loaded for it, not on every page's cold start.
            import email.policy
            from email.parser import BytesParser

            message = BytesParser(policy=email.policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
            return {
                str(part.get_param("name", header="content-disposition")): str(part.get_content()).strip()
                for part in message.iter_parts()
                if part.get_param("name", header="content-disposition")
            }
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError, LookupError):
        return None


def respond(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    token = (event.path_parameters or {}).get("token", "")
    now = datetime.fromtimestamp(event.request_context.time_epoch / 1000, tz=UTC)
    method = event.request_context.http.method.upper()
    if method == "GET":
        return render(show(token, now), event.raw_path)
    if method != "POST":
        return render(Page(405, "This link is opened, not sent to", ["Nothing has been recorded."]), "/")
    form = _form(event)
    if form is None:
        return render(
            Page(400, "This form could not be read", ["Open the link again and use its buttons. Nothing has been recorded."]), "/"
        )
    page = perform(token, form, now, Ctx(sub="", now=now, due_shards=get_settings().due_shards))
    logger.info("link used", extra={"status": page.status})
    return render(page, event.raw_path)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@event_source(data_class=APIGatewayProxyEventV2)
def handler(event: APIGatewayProxyEventV2, context: LambdaContext) -> dict[str, Any]:
    try:
        return respond(event)
    except Exception as exc:
        logger.error("link page failed", extra={"error_type": type(exc).__name__})
        return render(Page(500, "Something went wrong", ["Nothing was lost; please try the link again in a moment."]), "/")
