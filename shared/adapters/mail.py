"""Email through SES v2, as a raw MIME message: plain text and HTML, and any per-recipient headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Attachment:
    """One file attached to a message, e.g. an .ics: text/calendar with params {"method": "PUBLISH"}."""

    filename: str
    data: bytes
    maintype: str = "application"
    subtype: str = "octet-stream"
    params: dict[str, str] = field(default_factory=dict)


class Mailer:
    def __init__(self, client: Callable[[], Any], sender: str, sender_name: str = "Peer support"):
        self._client = client
        self.sender = sender
        self.sender_name = sender_name

    def send(
        self,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        headers: dict[str, str] | None = None,
        configuration_set: str | None = None,
        attachment: Attachment | None = None,
    ) -> str:
        """Send one message to one recipient (with one attachment, if given); returns SES's message id."""
        message = EmailMessage()
        message["From"] = formataddr((self.sender_name, self.sender))
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1])
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        if attachment is not None:  # the bodies become the first part of a multipart/mixed message
            message.add_attachment(
                attachment.data,
                maintype=attachment.maintype,
                subtype=attachment.subtype,
                filename=attachment.filename,
                params=attachment.params,
            )
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if configuration_set:  # bounces and complaints are published through it
            request["ConfigurationSetName"] = configuration_set
        response = self._client().send_email(**request)
        return str(response["MessageId"])


@cache
def templates() -> Any:
    """The email templates (shared/templates/*.j2, text and HTML, autoescaped), loaded on first use."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),  # shared/templates
        autoescape=select_autoescape(["html", "html.j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> tuple[str, str]:
    """The text and HTML bodies of a template (<template>.txt.j2 and <template>.html.j2)."""
    env = templates()
    return env.get_template(f"{template}.txt.j2").render(**context), env.get_template(f"{template}.html.j2").render(**context)
