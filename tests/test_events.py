"""SES events: parsing both shapes and both type fields, and recording them per recipient
(duplicates, out-of-order events, retries, suppression) in a real SQLite archive."""

from __future__ import annotations

import json

import pytest
from execreport.archive import Archive
from execreport.events import NotAnEvent, parse
from execreport.models import Report, Section
from execreport.render import Rendered

MAIL = {"messageId": "m-1", "timestamp": "2025-04-01T10:00:00.000Z", "destination": []}


def bounce(kind: str = "Permanent", *addresses: str, field: str = "eventType") -> dict:
    return {
        field: "Bounce",
        "mail": {**MAIL, "destination": list(addresses)},
        "bounce": {
            "bounceType": kind,
            "bounceSubType": "General",
            "timestamp": "2025-04-01T10:00:05.000Z",
            "feedbackId": "f-1",
            "bouncedRecipients": [
                {"emailAddress": a, "diagnosticCode": f"smtp; 550 5.1.1 {a} unknown"}
                for a in addresses
            ],
        },
        "someFieldSESAddsLater": {"x": 1},
    }


def delivery(*addresses: str, at: str = "2025-04-01T10:00:09.000Z") -> dict:
    return {
        "eventType": "Delivery",
        "mail": MAIL,
        "delivery": {"timestamp": at, "recipients": list(addresses), "smtpResponse": "250 ok"},
    }


def sns(event: dict) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "sns-1", "Message": json.dumps(event)})


def test_the_sns_envelope_and_the_raw_message_give_the_same_events():
    raw = json.dumps(bounce("Permanent", "cfo@example.com"))
    wrapped = sns(bounce("Permanent", "cfo@example.com"))
    assert parse(raw) == parse(wrapped)
    (ev,) = parse(raw)
    assert (ev.message_id, ev.recipient, ev.state, ev.bounce_type) == (
        "m-1",
        "cfo@example.com",
        "bounced",
        "Permanent",
    )
    assert ev.diagnostic == "smtp; 550 5.1.1 cfo@example.com unknown"
    assert ev.event_at == "2025-04-01T10:00:05.000+00:00"


def test_the_older_notification_type_reads_as_the_event_type():
    old = parse(json.dumps(bounce("Transient", "a@example.com", field="notificationType")))
    new = parse(json.dumps(bounce("Transient", "a@example.com")))
    assert old == new and old[0].bounce_type == "Transient"


def test_one_notification_for_several_recipients_is_one_event_each():
    events = parse(json.dumps(delivery("A@Example.com", "b@example.com")))
    assert [(e.recipient, e.state) for e in events] == [
        ("a@example.com", "delivered"),
        ("b@example.com", "delivered"),
    ]
    assert len({e.event_key for e in events}) == 2


def test_complaint_reject_and_delay_and_types_not_tracked():
    complaint = {
        "eventType": "Complaint",
        "mail": MAIL,
        "complaint": {
            "timestamp": "2025-04-02T08:00:00Z",
            "complaintFeedbackType": "abuse",
            "complainedRecipients": [{"emailAddress": "ceo@example.com"}],
        },
    }
    reject = {
        "eventType": "Reject",
        "mail": {**MAIL, "destination": ["x@example.com"]},
        "reject": {"reason": "Bad content"},
    }
    delay = {
        "eventType": "DeliveryDelay",
        "mail": MAIL,
        "deliveryDelay": {
            "timestamp": "2025-04-01T11:00:00Z",
            "delayType": "MailboxFull",
            "delayedRecipients": [{"emailAddress": "d@example.com"}],
        },
    }
    assert [(e.state, e.diagnostic) for e in parse(json.dumps(complaint))] == [
        ("complained", "abuse")
    ]
    assert [(e.recipient, e.state, e.diagnostic) for e in parse(json.dumps(reject))] == [
        ("x@example.com", "rejected", "Bad content")
    ]
    assert [(e.state, e.diagnostic) for e in parse(json.dumps(delay))] == [
        ("delayed", "MailboxFull")
    ]
    assert parse(json.dumps({"eventType": "Open", "mail": MAIL, "open": {}})) == []
    assert parse(json.dumps({"Type": "SubscriptionConfirmation", "Message": "hi"})) == []


@pytest.mark.parametrize(
    "body, why",
    [
        ("this is not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"Type": "Notification", "Message": "{broken"}), "Message is not JSON"),
        (json.dumps({"mail": MAIL}), "no eventType"),
        (json.dumps({"eventType": "Bounce", "mail": {}}), "no mail.messageId"),
        (json.dumps({"eventType": "Bounce", "mail": MAIL, "bounce": {}}), "bouncedRecipients"),
    ],
)
def test_a_message_that_is_not_an_event_says_why(body, why):
    with pytest.raises(NotAnEvent, match=why):
        parse(body)


# -- recording --------------------------------------------------------------------------
def sent_version(archive: Archive, to: list[str], message_id: str = "m-1"):
    report = Report(role="cfo", title="CFO", sections=[Section(heading="h", body="cash")])
    text = "cash"
    v, _ = archive.store(
        report,
        Rendered(markdown=text, html=text, text=text, base=text),
        as_of="2025-03-31",
        period="Q1 2025",
    )
    d = archive.plan_delivery(v.id, "ses", to, ["audit@example.com"])
    assert archive.claim(d.id)
    archive.mark_sent(d.id, message_id)
    return v, d


def states(archive: Archive, v) -> dict[str, tuple]:
    return {
        s.recipient: (s.state, s.bounce_type, s.diagnostic) for s in archive.recipient_states(v.id)
    }


def test_a_bounce_then_the_same_bounce_then_a_late_delivery(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = sent_version(archive, ["cfo@example.com", "ctl@example.com"])
        first = archive.record_events(parse(sns(bounce("Permanent", "cfo@example.com"))))
        assert [o.result for o in first] == ["recorded"]
        diag = "smtp; 550 5.1.1 cfo@example.com unknown"
        expected = {"cfo@example.com": ("bounced", "Permanent", diag)}
        assert states(archive, v) == expected
        assert list(archive.suppressions()) == ["cfo@example.com"]
        assert len(archive.pending_notices()) == 1
        archive.mark_notified([s for s, _ in archive.pending_notices()])
        before = archive.db.execute("SELECT * FROM recipient_states").fetchall()
        again = archive.record_events(parse(sns(bounce("Permanent", "cfo@example.com"))))
        assert [o.result for o in again] == ["duplicate"]
        # a Delivery that arrives after the Bounce (dated later, even) does not overwrite it
        late = archive.record_events(parse(json.dumps(delivery("cfo@example.com"))))
        assert [o.result for o in late] == ["kept"]
        assert [tuple(r) for r in archive.db.execute("SELECT * FROM recipient_states")] == [
            tuple(r) for r in before
        ]
        assert archive.pending_notices() == []
        other = archive.record_events(parse(json.dumps(delivery("ctl@example.com"))))
        assert [o.result for o in other] == ["recorded"]
        assert states(archive, v)["ctl@example.com"] == ("delivered", None, "250 ok")
        assert list(archive.suppressions()) == ["cfo@example.com"]


def test_events_for_unknown_messages_and_strangers_change_nothing(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, _ = sent_version(archive, ["cfo@example.com"])
        stranger = archive.record_events(parse(json.dumps(delivery("who@example.com"))))
        other = {**delivery("cfo@example.com"), "mail": {**MAIL, "messageId": "not-ours"}}
        unknown = archive.record_events(parse(json.dumps(other)))
        assert [o.result for o in stranger + unknown] == ["unknown", "unknown"]
        assert states(archive, v) == {}


def test_a_transient_bounce_is_due_again_until_the_retries_run_out(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        v, d = sent_version(archive, ["cfo@example.com"])
        archive.record_events(parse(json.dumps(bounce("Transient", "cfo@example.com"))))
        assert [s.recipient for s in archive.transient_due(v.id, 3)] == ["cfo@example.com"]
        assert archive.suppressions() == {}  # a transient bounce suppresses nothing
        # the retry goes out as a new message: nothing is due until its own event comes
        assert archive.claim(d.id, resend=True)
        archive.mark_sent(d.id, "m-2")
        archive.count_retry(v.id, "cfo@example.com")
        assert archive.transient_due(v.id, 3) == []
        retry = {**bounce("Transient", "cfo@example.com"), "mail": {**MAIL, "messageId": "m-2"}}
        archive.record_events(parse(json.dumps(retry)))
        (s,) = archive.transient_due(v.id, 3)
        assert (s.message_id, s.retries) == ("m-2", 1)
        assert archive.transient_due(v.id, 1) == []  # max_transient_retries = 1: done
        # an old event for the first message never overwrites the newer message's state
        old = archive.record_events(parse(json.dumps(delivery("cfo@example.com"))))
        assert [o.result for o in old] == ["kept"]


def test_a_complaint_suppresses_and_remove_takes_it_off(tmp_path):
    with Archive(tmp_path / "a.sqlite3") as archive:
        sent_version(archive, ["ceo@example.com"])
        complaint = {
            "notificationType": "Complaint",
            "mail": MAIL,
            "complaint": {"complainedRecipients": [{"emailAddress": "ceo@example.com"}]},
        }
        archive.record_events(parse(json.dumps(complaint)))
        (s,) = archive.suppressions().values()
        assert (s.address, s.reason, s.role, s.version) == (
            "ceo@example.com",
            "complaint",
            "cfo",
            1,
        )
        assert archive.unsuppress("CEO@example.com") and archive.suppressions() == {}
        assert not archive.unsuppress("ceo@example.com")
