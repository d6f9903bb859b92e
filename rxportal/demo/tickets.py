"""Demo support tickets: the demo customer has tickets in every status (one closed long enough
ago that a reply starts a new ticket), demo2 has a few of its own. No mail is sent."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from rxportal.models import utcnow
from rxportal.models.tickets import STATUS_CLOSED
from rxportal.services import tickets

ORDER = 40
STAFF = ("Jamie (Support)", "jamie@example.net")

DEMO_TICKETS = [
    # subject, [(who, text, hours ago)], closed days ago or None
    ("Internet drops every evening", [
        ("customer", "Since Monday my connection drops for a few minutes around 8 pm, "
                     "every evening. The modem lights stay green.", 50),
        ("isp", "Thank you, Alex. We see short outages on your line too. Could you tell us "
                "whether it also happens with a cable instead of Wi-Fi?", 30),
        ("customer", "Yes, it also happens with a cable plugged into the modem.\n\n"
                     "On Tue, Jamie (Support) wrote:\n> Could you tell us whether it also "
                     "happens with a cable instead of Wi-Fi?", 6),
    ], None),
    ("Modem light blinking orange", [
        ("customer", "The DSL light on my modem blinks orange since this morning.", 28),
        ("isp", "We restarted your port remotely. Please unplug the modem for 30 seconds "
                "and plug it back in, then tell us if the light turns green.", 3),
    ], None),
    ("Question about my last invoice", [
        ("customer", "My last invoice is higher than usual. Why?", 24 * 12),
        ("isp", "The invoice includes a one-time data top-off you bought on the 3rd. "
                "Everything else is unchanged.", 24 * 11),
        ("customer", "I see it now, thanks!", 24 * 11 - 2),
    ], 10),
    ("Moving to a new address", [
        ("customer", "I am moving next month. Can my service move with me?", 24 * 80),
        ("isp", "Yes: we booked a technician at your new address for the 1st.", 24 * 79),
    ], 60),
]

DEMO2_TICKETS = [
    ("Installation d'un deuxième point d'accès", [
        ("customer", "Bonjour, est-il possible d'ajouter un point d'accès Wi-Fi à l'étage ?", 20),
    ], None),
    ("Facture en double", [
        ("customer", "J'ai reçu deux fois la même facture ce mois-ci.", 24 * 5),
        ("isp", "Bonjour Camille, c'était une erreur d'envoi : une seule facture est due.", 24 * 4),
    ], None),
]


def _load(session: Session, account, specs) -> None:
    now = utcnow()
    for subject, messages, closed_days in specs:
        ticket = tickets._open_ticket(session, account, subject, None)
        ticket.created_at = now - timedelta(hours=messages[0][2])
        for who, text, hours in messages:
            name, email = (account.name, account.email) if who == "customer" else STAFF
            tickets._add_message(session, ticket, author_kind=who, author_name=name,
                                 author_email=email, body=text,
                                 via="portal" if who == "customer" else "email",
                                 message_id=tickets.new_message_id(ticket.number, "d"),
                                 at=now - timedelta(hours=hours))
        if closed_days is not None:
            ticket.status = STATUS_CLOSED
            ticket.closed_at = now - timedelta(days=closed_days)
        session.add(ticket)
        session.flush()


def load(session: Session, ctx: dict) -> None:
    _load(session, ctx["demo"], DEMO_TICKETS)
    _load(session, ctx["demo2"], DEMO2_TICKETS)
