"""What each event costs in state: with Redis, Reflex unpickles the page's state, its parents and
every state whose computed vars follow theirs (the usage and tickets pages follow
SessionState.ui_lang) for every event, and recomputes and resends a computed var whenever a var
it reads is assigned. bench/bench_websocket.py measures the effect; these pin the causes."""
from __future__ import annotations

import pickle

from reflex.state import State

from rxportal.services import auth
from rxportal.state.language import LanguageState
from tests.unit.test_billing_state import call, demo  # noqa: F401 - demo: the demo data fixture


def logged_in_tree(session, username="demo"):
    from reflex.state import State

    from rxportal.state.session import SessionState

    root = State(_reflex_internal_init=True)
    token = auth.login(session, username, "correct-horse-demo").token
    session.commit()
    root.get_substate(SessionState.get_full_name().split(".")).session_token = token
    return root


def substate(root, state_class):
    return root.get_substate(state_class.get_full_name().split("."))


def test_the_usage_state_is_stored_without_its_plotly_chart(session, demo):
    from reflex.state import BaseState

    from rxportal.state.usage import UsageState

    usage = substate(logged_in_tree(session), UsageState)
    call(usage, "load_usage")
    shown = usage.chart.to_plotly_json()
    assert len(usage.periods) == 12 and shown["data"]

    stored = usage._serialize()
    assert b"plotly" not in stored and len(stored) < 8_000
    # Storing does not drop the cache of the state being used.
    assert UsageState.computed_vars["chart"]._cache_attr in vars(usage)
    loaded = BaseState._deserialize(data=stored)
    assert loaded.periods == usage.periods
    assert UsageState.computed_vars["chart"]._cache_attr not in vars(loaded)
    # The parent is not pickled with a substate: give the loaded one the same parent.
    loaded.parent_state = usage.parent_state
    assert loaded.chart.to_plotly_json() == shown


def test_a_page_load_with_nothing_changed_leaves_the_usage_and_tickets_texts_alone(session, demo):
    from rxportal.state.session import SessionState
    from rxportal.state.tickets import TicketsState
    from rxportal.state.usage import UsageState

    root = logged_in_tree(session)
    call(substate(root, SessionState), "check_login")
    usage = substate(root, UsageState)
    call(usage, "load_usage")
    usage.chart  # noqa: B018 - computed and cached, as the page does
    root._clean()

    call(substate(root, SessionState), "check_login")  # the next page of the same customer

    assert not usage.dirty_vars and not substate(root, TicketsState).dirty_vars
    assert UsageState.computed_vars["chart"]._cache_attr in vars(usage)
    assert not substate(root, LanguageState).dirty_vars


def test_translated_texts_follow_a_state_that_a_page_load_leaves_alone(session, demo):
    """Every t() text reads LanguageState alone: the browser re-renders each component reading a
    state when anything in it changes, and a page load changes SessionState (the login's
    figures, the menu) but, for a visitor whose language stays, not LanguageState."""
    from rxportal.components.i18n import t
    from rxportal.state.session import SessionState

    text = str(t("Billing"))
    assert LanguageState.get_full_name().replace(".", "__") in text
    assert SessionState.get_name() not in text

    root = State(_reflex_internal_init=True)  # a new tab of a logged-in customer
    fresh = substate(root, SessionState)
    fresh.session_token = auth.login(session, "demo", "correct-horse-demo").token
    session.commit()
    root._clean()
    call(fresh, "check_login")
    call(fresh, "toggle_menu")
    assert {"username", "amount_due_text", "menu_open"} <= substate(root, SessionState).dirty_vars
    assert not substate(root, LanguageState).dirty_vars

    call(fresh, "set_language", "fr")
    assert "ui_lang" in substate(root, LanguageState).dirty_vars


def test_a_language_switch_still_relabels_the_usage_page(session, demo):
    from rxportal.state.session import SessionState
    from rxportal.state.usage import UsageState

    root = logged_in_tree(session)
    session_state = substate(root, SessionState)
    call(session_state, "check_login")
    usage = substate(root, UsageState)
    call(usage, "load_usage")
    english = usage.chart.to_plotly_json()["data"][0]["name"]
    root._clean()

    call(session_state, "set_language", "fr")

    assert "chart" in usage.dirty_vars
    assert usage.chart.to_plotly_json()["data"][0]["name"] != english


def test_pickle_of_a_state_tree_stays_loadable(session, demo):
    """The stored form is plain pickle: a field's value of any page round-trips."""
    from rxportal.state.billing import BillingState

    billing = substate(logged_in_tree(session), BillingState)
    call(billing, "load_billing")
    schema, loaded = pickle.loads(billing._serialize())
    assert loaded.invoices == billing.invoices and loaded.amount_due == billing.amount_due


def test_the_usage_chart_carries_no_plotly_template(session, demo):
    """Reflex computes the chart for every new tab, on every page: plotly's default template
    made that 15-18 ms of CPU and 6 KB of JSON (bench/README.md)."""
    import plotly.io as pio

    from rxportal.state.usage import UsageState

    usage = substate(logged_in_tree(session), UsageState)
    empty_tab = pio.to_json(usage.chart)  # what a tab that never opened the usage page gets
    assert "colorway" not in empty_tab and len(empty_tab) < 1_000
    call(usage, "load_usage")
    shown = usage.chart.to_plotly_json()
    assert len(shown["data"][0]["x"]) == 12
    assert not shown["layout"]["template"].get("layout")
