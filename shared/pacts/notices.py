"""A notice to the colleague when the other party changes the call they agreed (day and time, mode, length).

Either party may change a pact's terms (PATCH /pacts/{id}); the other hears it once, by email, from
`PactTermsChanged`: who changed it, the terms as they are now and when the next check-in is due.
The same people as an away notice hear it (a colleague who accepted, or an outside colleague with an
email address), once per event (a redelivered event sends nothing twice).
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from pynamodb.exceptions import DoesNotExist

from shared.adapters.mail import Mailer
from shared.adapters.models import Member, PactView
from shared.adapters.observability import logger
from shared.invitations.emails import proposed_terms
from shared.members.notices import Notice, hears_from_us, send_once


def render_terms_notice(changed_by: str, colleague_name: str, terms: dict[str, object]) -> Notice:
    """The short email about changed terms. Pure."""
    subject = f"{changed_by} changed your regular check-ins"
    now_line = f"now {terms['when']}, {terms['mode']}, {terms['time_limit']} minutes; the next one {terms['first']}."
    advice = f"If that does not suit you, talk it over with {changed_by}: either of you can change it in the app."
    text = f"Hello {colleague_name},\n\n{changed_by} changed the check-ins you agreed: {now_line}\n\n{advice}\n\nPeer support\n"
    html = (
        f"<p>Hello {escape(colleague_name)},</p>"
        f"<p>{escape(changed_by)} changed the check-ins you agreed: {escape(now_line)}</p>"
        f"<p>{escape(advice)}</p><p>Peer support</p>"
    )
    return Notice(subject, text, html)


def send_terms_notice(event_id: str, pact_id: str, member_id: str, now: datetime, mailer: Mailer) -> int:
    """Tell the colleague of the member who changed the pact's terms, once. Returns how many were sent (0 or 1)."""
    try:
        view = PactView.get(*PactView.key(pact_id, member_id), consistent_read=True)
        member = Member.get(*Member.key(member_id))
    except DoesNotExist:
        return 0  # the pact or the member went meanwhile: nothing to tell
    if not hears_from_us(view):
        return 0  # an invitation not yet accepted, a colleague who left, or nobody with an address
    notice = render_terms_notice(member.display_name, view.colleague_name, proposed_terms(view, now))
    sent = int(send_once(member_id, event_id, str(view.colleague_email), notice, now, mailer))
    logger.info("terms notice handled", extra={"sent": sent})
    return sent
