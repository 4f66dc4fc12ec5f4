"""bunq's JSON -> the framework's records: payments (counterparty from
counterparty_alias, betalingskenmerk and RF read from the description, the
payment id as identity, the Amsterdam booking day of a UTC time), monetary
accounts with their eligibility, the API context's storage and envelope."""

import datetime
from decimal import Decimal

import pytest

from account_bank_link_bunq.tools import bunq_client, bunq_mapping
from l10n_nl_bankkoppeling.tools import provider


def payment(**changes):
    data = {
        "id": 738921002,
        "created": "2026-11-20 09:15:02.123456",
        "updated": "2026-11-20 09:15:02.123456",
        "monetary_account_id": 5000,
        "amount": {"value": "-1234.56", "currency": "EUR"},
        "alias": {"iban": "NL11BUNQ9257327272", "display_name": "Bakkerij De Korenbloem B.V."},
        "counterparty_alias": {"iban": "NL91ABNA0417164300", "display_name": "Meelfabriek De Hoop",
                               "country": "NL", "label_user": {"display_name": "Meelfabriek De Hoop"}},
        "description": "Factuur 2026-0117",
        "type": "EBA_SCT",
        "sub_type": "SCT",
        "balance_after_mutation": {"value": "3012.40", "currency": "EUR"},
    }
    data.update(changes)
    return data


def account(kind="MonetaryAccountBank", **changes):
    data = {"id": 5000, "currency": "EUR", "description": "bunq Zakelijk",
            "display_name": "Bakkerij De Korenbloem B.V.", "status": "ACTIVE",
            "balance": {"value": "4200.10", "currency": "EUR"},
            "alias": [{"type": "EMAIL", "value": "info@korenbloem.nl", "name": "Korenbloem"},
                      {"type": "IBAN", "value": "NL11 BUNQ 9257 3272 72", "name": "Bakkerij De Korenbloem B.V."}]}
    data.update(changes)
    return kind, data


# ------------------------------------------------------------------ payments
def test_payment_maps_amount_counterparty_text_and_identity():
    tx = bunq_mapping.map_payment(payment())
    assert tx.bank_id == "738921002"
    assert tx.amount == Decimal("-1234.56") and isinstance(tx.amount, Decimal) and tx.currency == "EUR"
    assert tx.counterparty_name == "Meelfabriek De Hoop" and tx.counterparty_iban == "NL91ABNA0417164300"
    assert tx.remittance_text == "Factuur 2026-0117"
    assert tx.structured_reference is None
    assert tx.balance_after == Decimal("3012.40")
    assert tx.bank_transaction_code == "EBA_SCT/SCT" and not tx.is_card_payment
    assert tx.raw["id"] == 738921002


def test_booking_day_is_amsterdams_day_of_the_utc_time():
    late = bunq_mapping.map_payment(payment(created="2026-11-20 23:30:00.000000"))
    assert late.booking_date == datetime.date(2026, 11, 21)  # 00:30 in Amsterdam (winter time)
    summer = bunq_mapping.map_payment(payment(created="2026-06-30 22:10:00.000000"))
    assert summer.booking_date == datetime.date(2026, 7, 1)  # 00:10 CEST
    early = bunq_mapping.map_payment(payment(created="2026-11-20 22:59:59.999999"))
    assert early.booking_date == datetime.date(2026, 11, 20)


def test_betalingskenmerk_in_the_description_becomes_the_structured_reference():
    tx = bunq_mapping.map_payment(payment(description="Betaling factuur 2026-0117 betalingskenmerk 5000 0567 8901 2345"))
    assert tx.structured_reference == "5000056789012345" and tx.structured_reference_issuer == "CUR"
    bare = bunq_mapping.map_payment(payment(description="5000056789012345"))
    assert bare.structured_reference == "5000056789012345"
    # A wrong check digit is no betalingskenmerk.
    wrong = bunq_mapping.map_payment(payment(description="5000056789012346"))
    assert wrong.structured_reference is None


def test_rf_reference_in_the_description():
    tx = bunq_mapping.map_payment(payment(description="RF18 5390 0754 7034"))
    assert tx.structured_reference == "RF18539007547034" and tx.structured_reference_issuer == "ISO"


def test_card_payment_without_counterparty_iban():
    tx = bunq_mapping.map_payment(payment(type="FIS", sub_type="PAYMENT", description="",
                                          amount={"value": "-12.50", "currency": "EUR"},
                                          counterparty_alias={"display_name": "Albert Heijn 1234", "country": "NL"}))
    assert tx.is_card_payment and tx.counterparty_iban is None and tx.counterparty_name == "Albert Heijn 1234"
    assert tx.remittance_text == ""


def test_counterparty_name_falls_back_to_the_label_user_and_a_bad_iban_is_dropped():
    tx = bunq_mapping.map_payment(payment(counterparty_alias={"iban": "NL00BUNQ0000000000",
                                                              "label_user": {"display_name": "J. de Vries"}}))
    assert tx.counterparty_name == "J. de Vries" and tx.counterparty_iban is None


def test_description_white_space_is_folded():
    tx = bunq_mapping.map_payment(payment(description="Salaris\nnovember   2026 "))
    assert tx.remittance_text == "Salaris november 2026"


@pytest.mark.parametrize("changes", [{"id": None}, {"amount": {"value": "abc"}}, {"created": "gisteren"},
                                     {"amount": {"value": "NaN", "currency": "EUR"}}])
def test_unreadable_payments_are_protocol_errors(changes):
    with pytest.raises(provider.ProtocolError):
        bunq_mapping.map_payment(payment(**changes))


def test_only_payment_objects_of_a_listing_are_mapped():
    payload = {"Response": [{"Payment": payment()}, {"Payment": payment(id=738921001)}, {"Other": {"id": 1}}],
               "Pagination": {"older_url": "/v1/user/9001/monetary-account/5000/payment?count=2&older_id=738921001",
                              "newer_url": None, "future_url": None}}
    rows = bunq_mapping.map_payments(bunq_client.listed(payload, "payments"))
    assert [tx.bank_id for tx in rows] == ["738921002", "738921001"]
    assert bunq_mapping.older_url(payload).endswith("older_id=738921001")
    assert bunq_mapping.older_url({"Pagination": {"older_url": None}}) is None
    assert bunq_mapping.older_url({}) is None


# ------------------------------------------------------------------ accounts
def test_business_account_is_eligible_with_its_iban_from_the_aliases():
    linked = bunq_mapping.map_account(*account())
    assert linked.eligible and linked.iban == "NL11BUNQ9257327272" and linked.resource_id == "5000"
    assert linked.product == "bunq Zakelijk" and linked.holder_name == "Bakkerij De Korenbloem B.V."


@pytest.mark.parametrize(("kind", "changes", "reason"), [
    ("MonetaryAccountSavings", {}, bunq_mapping.REASON_SAVINGS),
    ("MonetaryAccountInvestment", {}, bunq_mapping.REASON_OTHER_TYPE),
    ("MonetaryAccountBank", {"alias": [{"type": "EMAIL", "value": "x@y.nl"}]}, bunq_mapping.REASON_NO_IBAN),
    ("MonetaryAccountBank", {"currency": "USD"}, bunq_mapping.REASON_FOREIGN_CURRENCY),
    ("MonetaryAccountBank", {"status": "CANCELLED"}, bunq_mapping.REASON_NOT_ACTIVE),
    ("MonetaryAccountBank", {"status": "BLOCKED"}, bunq_mapping.REASON_NOT_ACTIVE),
])
def test_ineligible_accounts_say_why(kind, changes, reason):
    mapped = bunq_mapping.map_account(*account(kind, **changes))
    assert not mapped.eligible and mapped.ineligible_reason == reason


def test_every_reason_has_dutch():
    reasons = {value for name, value in vars(bunq_mapping).items() if name.startswith("REASON_")}
    assert reasons == set(bunq_mapping.REASONS_NL)
    assert all("bunq" in text or "EUR" in text for text in bunq_mapping.REASONS_NL.values())


def test_joint_account_is_linkable_and_the_balance_is_the_accounts_own():
    assert bunq_mapping.map_account(*account("MonetaryAccountJoint")).eligible
    balance = bunq_mapping.map_balance(*account(), today=datetime.date(2026, 11, 21))
    assert balance.amount == Decimal("4200.10") and balance.reference_date == datetime.date(2026, 11, 21)
    assert bunq_mapping.map_balance("MonetaryAccountBank", {"id": 1}, today=datetime.date(2026, 11, 21)) is None


# ------------------------------------------------------------------ envelope and context
def test_envelope_errors():
    with pytest.raises(provider.ProtocolError):
        bunq_client.merged({"Error": [{"error_description": "x"}]}, "session")
    with pytest.raises(provider.ProtocolError):
        bunq_client.listed({"Response": "nope"}, "payments")
    assert bunq_client.merged({"Response": [{"Id": {"id": 1}}, {"Token": {"token": "t"}}]}, "x") == {
        "Id": {"id": 1}, "Token": {"token": "t"}}


def test_context_round_trips_as_json_and_hides_its_secrets():
    key = bunq_client.generate_private_key_pem()
    context = bunq_client.BunqContext(private_key_pem=key, installation_token="inst-secret",
                                      server_public_key_pem=bunq_client.public_key_pem(key), api_key="api-secret",
                                      session_token="sess-secret", session_id=7, user_id=9001, user_type="UserApiKey",
                                      session_expires_at=datetime.datetime(2026, 11, 27, 9, 0, tzinfo=datetime.UTC))
    assert bunq_client.BunqContext.from_json(context.to_json()) == context
    for secret in ("inst-secret", "api-secret", "sess-secret", "PRIVATE"):
        assert secret not in repr(context) and secret not in str(context)
    assert context.session_valid(datetime.datetime(2026, 11, 27, 8, 59, 0, tzinfo=datetime.UTC))
    assert not context.session_valid(datetime.datetime(2026, 11, 27, 8, 59, 45, tzinfo=datetime.UTC))
    with pytest.raises(provider.ConfigurationError):
        bunq_client.BunqContext.from_json('{"access_token": "a plain token"}')


def test_signatures_verify_only_over_the_same_body_with_the_right_key():
    key = bunq_client.generate_private_key_pem()
    public = bunq_client.public_key_pem(key)
    signature = bunq_client.sign(key, b'{"Response":[]}')
    assert bunq_client.verify(public, b'{"Response":[]}', signature)
    assert not bunq_client.verify(public, b'{"Response":[ ]}', signature)
    assert not bunq_client.verify(bunq_client.public_key_pem(bunq_client.generate_private_key_pem()),
                                  b'{"Response":[]}', signature)
    assert not bunq_client.verify(public, b"{}", None) and not bunq_client.verify(public, b"{}", "%%%")
