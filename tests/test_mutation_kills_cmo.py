"""The CMO's METRICS.md figures and booking sums (plugins/roles/cmo.py `channel_figures`,
`booking_figures`), counted by hand. Written to kill the mutants of `bench/mutation.sh cmo`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from execreport.models import Channel
from execreport.plugins.roles.cmo import booking_figures, channel_figures
from mutation_data import context, entity, row


def test_channels_absent_live_and_the_email_list_summed_over_entities():
    a = entity(
        "a",
        channels=[
            Channel(name="GetMyBoat", status="absent"),
            Channel(name="Google", status="claimed"),
            Channel(name="Yelp", status="optimised"),
            Channel(name="Airbnb", status="listed"),
            Channel(name="Boatsetter", status="abandoned"),  # sorts before "absent"
            # a status read from a file is a new string, not the interned literal
            Channel(name="Tripadvisor", status="".join(["ab", "sent"])),
        ],
        audience={"email_list": "120"},
    )
    b = entity(
        "b",
        channels=[Channel(name="Viator"), Channel(name="Klook", status="unclaimed")],
        audience={"email_list": 30},
    )
    c = entity("c", audience={"segments": {}})
    assert channel_figures([a, b, c]) == {
        "channels_absent": 3,  # GetMyBoat, Tripadvisor, Viator (absent is the default)
        "channels_live": 2,
        "email_list": 150,
    }
    assert channel_figures([c]) == {"channels_absent": 0, "channels_live": 0, "email_list": None}
    assert channel_figures([entity("d", audience={"email_list": 0})])["email_list"] == 0


def test_bookings_are_the_positive_revenue_rows_of_the_trailing_3_months():
    a = entity(
        "a",
        [
            row("2025-01-01", "100.00", "4000"),
            row("2025-03-31", "50.00", "4100"),
            row("2025-02-01", "-30.00", "4000"),  # a refund: revenue, not a booking
            row("2024-12-31", "999.00", "4000"),  # before the window
            row("2025-02-02", "-20.00", "6100"),
            row("2025-02-03", "7.00", "40000"),  # not a four-digit account
        ],
    )
    b = entity("b", [row("2025-02-01", "10.00", "4000")])
    got = booking_figures(context([a, b], date(2025, 3, 31)).ledger, date(2025, 3, 31))
    assert got == {
        "a": (Decimal("120.00"), 2),
        "b": (Decimal("10.00"), 1),
        "consolidated": (Decimal("130.00"), 3),
    }
