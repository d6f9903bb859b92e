"""Demo contracts: two templates in English and French; for `demo` one contract signed (with
its real PDF and log entry) and one pending; for `demo2` one pending."""
from __future__ import annotations

import base64
import io
from datetime import datetime, time, timedelta, timezone

from sqlmodel import Session, select

from rxportal.demo import DEMO_PASSWORD
from rxportal.models import PortalUser, utcnow
from rxportal.services import contracts

ORDER = 50

TERMS_EN = """These terms and conditions are an agreement between $isp_name (the "Provider") and $account_name, account $account_number (the "Customer"), issued on $issue_date.

1. Service. The Provider supplies the Internet access services on the account ($services) at the prices and data caps shown in the customer portal.

2. Billing. Invoices are issued at the start of each billing period and are due within 14 days. Payments may be made in the customer portal by card or bank account; autopay charges the saved payment method on the due date.

3. Data usage. Usage above a plan's data cap may be limited or charged through top-offs, as shown in the customer portal.

4. Contact. Notices are sent to $account_email. The Customer keeps these details up to date in the customer portal.

5. Term. This agreement continues month to month until either party ends it with 30 days' notice."""

TERMS_FR = """Les présentes conditions générales sont un accord entre $isp_name (le « Fournisseur ») et $account_name, compte $account_number (le « Client »), émis le $issue_date.

1. Service. Le Fournisseur fournit les services d'accès Internet du compte ($services) aux prix et plafonds de données indiqués dans le portail client.

2. Facturation. Les factures sont émises au début de chaque période de facturation et sont payables sous 14 jours. Les paiements peuvent être faits dans le portail client par carte ou compte bancaire ; le paiement automatique débite le moyen de paiement enregistré à l'échéance.

3. Consommation de données. La consommation au-delà du plafond d'un forfait peut être limitée ou facturée par des recharges, comme indiqué dans le portail client.

4. Contact. Les avis sont envoyés à $account_email. Le Client tient ces coordonnées à jour dans le portail client.

5. Durée. Le présent accord se poursuit de mois en mois jusqu'à ce que l'une des parties y mette fin avec un préavis de 30 jours."""

AUP_EN = """Acceptable use policy for $account_name, account $account_number.

The Customer will not use the service provided by $isp_name to send unsolicited bulk e-mail, to attack or scan other networks, or to break the law. The Provider may suspend a service that harms its network or other customers, after notice when possible."""

AUP_FR = """Politique d'utilisation acceptable pour $account_name, compte $account_number.

Le Client n'utilisera pas le service fourni par $isp_name pour envoyer des courriels non sollicités en masse, attaquer ou balayer d'autres réseaux, ou enfreindre la loi. Le Fournisseur peut suspendre un service qui nuit à son réseau ou à d'autres clients, après avis lorsque c'est possible."""


def demo_signature_png() -> bytes:
    """A drawn-looking signature (what the pad would send)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(30, 140), (70, 60), (95, 150), (130, 70), (160, 140), (210, 90), (250, 120),
              (300, 60), (330, 150), (380, 100), (430, 120), (480, 80), (560, 110)]
    draw.line(points, fill=(20, 20, 60, 255), width=4, joint="curve")
    draw.line([(60, 170), (520, 165)], fill=(20, 20, 60, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def load(session: Session, ctx: dict) -> None:
    terms = contracts.create_template(session, "terms", "Terms & Conditions",
                                      "Conditions générales", TERMS_EN, TERMS_FR)
    aup = contracts.create_template(session, "aup", "Acceptable Use Policy",
                                    "Politique d'utilisation acceptable", AUP_EN, AUP_FR)
    demo, demo2 = ctx["demo"], ctx["demo2"]
    today = utcnow().date()
    signed_on = today - timedelta(days=300)
    signed = contracts.issue(session, aup.id, demo.id, signed_on)
    pending = contracts.issue(session, terms.id, demo.id, today - timedelta(days=2))
    user = session.exec(select(PortalUser).where(PortalUser.account_id == demo.id)
                        .order_by(PortalUser.id)).first()
    contracts.sign(
        session, account_id=demo.id, user_id=user.id, contract_id=signed.id, lang="en",
        typed_name=demo.name, consent=True, consent_version=contracts.CONSENT_VERSION,
        password=DEMO_PASSWORD,
        signature_data_url=contracts.DATA_URL_PREFIX
        + base64.b64encode(demo_signature_png()).decode("ascii"),
        ip="203.0.113.24",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/131.0 Safari/537.36",
        email_copy=False,
        now=datetime.combine(signed_on + timedelta(days=1), time(14, 32, 5), tzinfo=timezone.utc))
    demo2_pending = contracts.issue(session, terms.id, demo2.id, today - timedelta(days=5))
    ctx.update(contracts={"signed": signed, "pending": pending, "demo2_pending": demo2_pending,
                          "templates": {"terms": terms, "aup": aup}})
