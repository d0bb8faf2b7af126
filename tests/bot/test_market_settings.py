"""The marketplace settings reach the order desk through build_services, and bad values stop
start-up with one line naming them."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError
from store.trust import MarketRules
from tests.bot.wiring import make_services, settings_for


def test_the_defaults_are_the_safe_ones(tmp_path) -> None:
    settings = settings_for(tmp_path)
    assert (
        settings.contact_exchange,
        settings.unverified_may_browse_accept,
        settings.accepts_per_day,
        settings.max_open_orders,
    ) == ("on_consent", False, 10, 5)


def test_the_rules_reach_the_order_desk(engine, tmp_path) -> None:
    services = make_services(
        engine,
        tmp_path,
        contact_exchange="on_accept",
        unverified_may_browse_accept=True,
        accepts_per_day=3,
        max_open_orders=2,
    )
    assert services.assistant.orders.rules == MarketRules(True, 3, 2, "on_accept")


@pytest.mark.parametrize(
    ("name", "value"),
    [("contact_exchange", "never"), ("accepts_per_day", 0), ("max_open_orders", -1)],
)
def test_a_bad_value_is_named(tmp_path, name: str, value: object) -> None:
    with pytest.raises(SettingsError, match=f"Bad setting {name.upper()}="):
        settings_for(tmp_path, **{name: value})
