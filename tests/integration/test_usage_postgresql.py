"""Usage on the real PostgreSQL (127.0.0.1:5432): 64-bit byte counts, roll-ups, the demo's
twelve periods, a CSV import and a top-off, in a database made for this test."""
from sqlmodel import select

from tests.integration.test_postgresql import postgres_url  # noqa: F401 - the fixture
from tests.unit.test_usage import ChargeFake


def test_usage_figures_imports_and_top_offs_on_postgresql(postgres_url):  # noqa: F811
    from rxportal import db
    from rxportal.demo import load_all
    from rxportal.models.usage import TopOffProduct, UsagePeriod
    from rxportal.services import migrations, usage

    migrations.upgrade()
    with db.session_scope() as session:
        ctx = load_all(session)
        demo_id, demo2_id = ctx["demo"].id, ctx["demo2"].id
    with db.session_scope() as session:
        figures = usage.current(session, demo_id)
        assert figures.cap == 500 * usage.GB and figures.will_exceed
        history = usage.history(session, demo_id)
        assert len(history) == 12 and max(p.used for p in history) > 500 * usage.GB
        assert usage.current(session, demo2_id).cap is None
        today = usage.local_today(session)
        big = 3 * 10**12  # 3 TB: past 32 bits
        checked, result = usage.import_csv(
            session, f"100002,{today.isoformat()},{big},0\n".encode(), today=today)
        assert not checked.errors and result.rows == 1
        product = session.exec(select(TopOffProduct).order_by(TopOffProduct.bytes)).first()
        purchase = usage.purchase_topoff(session, demo_id, product.id, "pg-key", ChargeFake(),
                                         today=today)
        assert purchase.status == "paid"
    with db.session_scope() as session:
        assert usage.current(session, demo2_id).used >= big
        assert usage.current(session, demo_id).cap == 500 * usage.GB + product.bytes
        assert session.exec(select(UsagePeriod).where(UsagePeriod.account_id == demo_id)).all()
        assert usage.rollup_all(session) > 0
