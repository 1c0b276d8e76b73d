from __future__ import annotations

import pytest

from intelligence.redaction import Redactor, luhn_valid, unfilled_placeholders


@pytest.mark.parametrize(
    ("text", "secret", "placeholder"),
    [
        ("Write to jo.park+leads@parkbakery.co.uk please", "jo.park+leads@parkbakery.co.uk", "[EMAIL_1]"),
        ("Call me on +44 7700 900123 after 5", "+44 7700 900123", "[PHONE_1]"),
        ("my number is (020) 7946-0958", "(020) 7946-0958", "[PHONE_1]"),
        ("Card 4111 1111 1111 1111 for the deposit", "4111 1111 1111 1111", "[CARD_1]"),
        ("We're at 221B Baker Street, London NW1 6XE", "221B Baker Street", "[ADDRESS_1]"),
        ("Deliver to NW1 6XE", "NW1 6XE", "[POSTCODE_1]"),
        ("Office: 1600 Pennsylvania Avenue, Washington, DC 20500", "DC 20500", "[POSTCODE_1]"),
    ],
)
def test_pii_becomes_a_placeholder_and_comes_back(text, secret, placeholder):
    redactor = Redactor()
    redacted = redactor.redact(text)
    assert secret not in redacted and placeholder in redacted
    assert redactor.restore(redacted) == text


def test_the_leads_name_is_redacted_whole_and_in_parts():
    redactor = Redactor(name="Priya Shah")
    redacted = redactor.redact("Hi, Priya Shah here. Priya's clinic (Shah Physio) needs a site.")
    assert "Priya" not in redacted and "Shah" not in redacted
    assert redacted.startswith("Hi, [NAME] here. [FIRST_NAME]'s clinic ([LAST_NAME] Physio)")
    assert redactor.restore("Hi [FIRST_NAME], thanks!") == "Hi Priya, thanks!"


def test_the_same_value_gets_the_same_placeholder():
    redactor = Redactor()
    redacted = redactor.redact("a@b.example, c@d.example and A@B.example again")
    assert redacted == "[EMAIL_1], [EMAIL_2] and [EMAIL_1] again"


def test_ordinary_numbers_are_left_alone():
    redactor = Redactor()
    text = "We need 200 hoodies by the 14th, budget £3,500, order 12345."
    assert redactor.redact(text) == text
    assert not luhn_valid("1234567812345678")


def test_unknown_placeholders_are_not_invented_and_are_reported():
    redactor = Redactor(name="Sam Lee")
    redactor.redact("I'm Sam Lee")
    assert redactor.restore("Hi [FIRST_NAME], see [EMAIL_3]") == "Hi Sam, see [EMAIL_3]"
    assert unfilled_placeholders("Hi Sam, see [EMAIL_3]") == ["[EMAIL_3]"]
