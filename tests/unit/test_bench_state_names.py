"""The simulated customers of bench/ speak to the app with the states' full names: a state moved
in the tree (2026-12-03: LanguageState above SessionState) must move there too, or the
websocket bench connects nobody."""
import importlib
import sys
from pathlib import Path


def test_bench_state_names_are_the_apps():
    from rxportal.state.billing import BillingState
    from rxportal.state.details import DetailsState
    from rxportal.state.session import SessionState
    from rxportal.state.tickets import TicketsState

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    common = importlib.import_module("_common")
    assert common.SESSION_STATE == SessionState.get_full_name()
    assert common.BILLING_STATE == BillingState.get_full_name()
    assert common.DETAILS_STATE == DetailsState.get_full_name()
    assert common.TICKETS_STATE == TicketsState.get_full_name()
    assert common.COOKIE_VAR == f"{SessionState.get_full_name()}.session_token_rx_state_"
