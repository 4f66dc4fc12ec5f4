"""The NextGenPSD2 providers' facts per bank and their configuration checks (no network)."""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from account_bank_link_nextgenpsd2.tools import nextgenpsd2_payments as payments
from account_bank_link_nextgenpsd2.tools import nextgenpsd2_provider as providers
from account_bank_link_nextgenpsd2.tools import profiles
from l10n_nl_bankkoppeling.tools import provider


def test_provider_facts_per_bank():
    facts = {code: (cls.name, cls.one_account_per_consent, cls.rotates_refresh_token, cls.consent_days)
             for code, cls in providers.PROVIDERS.items()}
    assert facts == {"knab": ("Knab", False, False, 87), "triodos": ("Triodos Bank", True, False, 90),
                     "asn": ("ASN Bank", False, False, 90), "sns": ("SNS", False, False, 90),
                     "regiobank": ("RegioBank", False, False, 90)}
    assert providers.SnsProvider.production_hosts == ("psd.bancairediensten.nl",)
    assert providers.consent_id_of(provider.TokenSet("a", scope="psd2 offline_access AIS:abc123")) == "abc123"


def test_signing_banks_need_the_qseal_certificate():
    config = providers.NextGenPsd2Config(client_id="c", client_secret="s", tls_cert_path="t", tls_key_path="k")
    for cls in (providers.KnabProvider, providers.TriodosProvider):
        with pytest.raises(provider.ConfigurationError):
            cls(config)
    assert providers.AsnProvider(config).client.signer is None  # de Volksbank does not sign
    with pytest.raises(TypeError):
        providers.NextGenPsd2Provider(config)


@pytest.mark.parametrize("uri", ["http://localhost:8069/bank_link/callback", "http://127.0.0.1:8069/bank_link/callback"])
def test_http_redirect_on_this_machine_is_for_a_sandbox_registration_only(uri):
    providers.check_redirect_uri(uri, sandbox=True)
    with pytest.raises(provider.ConfigurationError, match="sandbox registration only"):
        providers.check_redirect_uri(uri, sandbox=False)


@pytest.mark.parametrize("uri", ["http://odoo.korenaar.example/bank_link/callback", "http://10.0.0.5/bank_link/callback",
                                 "ftp://localhost/bank_link/callback", "", "https:///bank_link/callback"])
def test_other_non_https_redirects_are_refused_even_in_the_sandbox(uri):
    for sandbox in (True, False):
        with pytest.raises(provider.ConfigurationError, match="not an https address"):
            providers.check_redirect_uri(uri, sandbox=sandbox)


def test_production_consent_with_an_http_redirect_is_refused_before_the_bank_is_called():
    config = providers.NextGenPsd2Config(client_id="c", client_secret="s", tls_cert_path="t", tls_key_path="k")

    class NoNetwork:
        def __getattr__(self, name):
            raise AssertionError(f"the bank was called ({name})")

    bank = providers.AsnProvider(config, psu_ip_address="192.0.2.1", session=NoNetwork())
    with pytest.raises(provider.ConfigurationError, match="https"):
        bank.authorization_url("http://localhost:8069/bank_link/callback", "state")
    assert "pending" not in bank.flow_store
    providers.check_redirect_uri("https://odoo.korenaar.example/bank_link/callback", sandbox=False)


# ------------------------------------------------------------------ payments
def _batch(count=1, reference=None, requested=None, order_type="credit_transfer"):
    payment = provider.PaymentInstruction(
        end_to_end_id="KOR-2026-0001", amount=Decimal("418.60"), currency="EUR",
        counterparty_name="Meelfabriek Holland B.V.", counterparty_iban="NL81INGB0002345671",
        remittance_text="INK-001", structured_reference=reference)
    return provider.PaymentBatch(
        order_type=order_type, idempotency_key="k", message_id="M1", account_iban="NL82ASNB4149506426",
        account_name="Korenaar", currency="EUR", total=Decimal("418.60") * count, requested_date=requested,
        instructions=(payment,) * count, redirect_uri="https://odoo.korenaar.example/bank_link/payment/back?state=s")


TODAY = datetime.date(2026, 12, 3)


def test_payment_support_per_bank():
    support = {code: cls.payment_support(cls.__new__(cls), "credit_transfer") for code, cls in providers.PROVIDERS.items()}
    assert {code: (s.how, s.max_transactions if s.how == "api" else None) for code, s in support.items()} == {
        "knab": ("api", 1), "triodos": ("file", None), "asn": ("api", 1), "sns": ("api", 1), "regiobank": ("api", 1)}
    for cls in providers.PROVIDERS.values():  # no direct debits at any of them
        assert cls.payment_support(cls.__new__(cls), "direct_debit").how == "file"
    assert {cls.max_payments_per_order for code, cls in providers.PROVIDERS.items() if code != "triodos"} == {1}


def test_payment_body_of_one_credit_transfer():
    body = payments.payment_body(profiles.ASN, _batch(reference="1234567890123456"), TODAY)
    assert body["instructedAmount"] == {"currency": "EUR", "amount": "418.60"}
    assert body["debtorAccount"]["iban"] == "NL82ASNB4149506426"
    assert body["creditorAccount"]["iban"] == "NL81INGB0002345671"
    # de Volksbank: the betalingskenmerk structured, issuer CUR [C V-swagger].
    assert (body["remittanceInformationStructured"], body["issuerSRI"]) == ("1234567890123456", "CUR")
    knab = payments.payment_body(profiles.KNAB, _batch(reference="1234567890123456"), TODAY)
    assert "remittanceInformationStructured" not in knab
    assert knab["remittanceInformationUnstructured"] == "1234567890123456"


def test_more_payments_are_never_sent_as_one():
    with pytest.raises(provider.InvalidRequestError, match="one payment at a time"):
        payments.payment_body(profiles.KNAB, _batch(count=2), TODAY)


def test_a_future_date_goes_to_volksbank_and_is_refused_by_knabs_instant_transfer():
    later = TODAY + datetime.timedelta(days=7)
    assert payments.payment_body(profiles.SNS, _batch(requested=later), TODAY)["requestedExecutionDate"] == later.isoformat()
    with pytest.raises(provider.InvalidRequestError, match="executes the payment at once"):
        payments.payment_body(profiles.KNAB, _batch(requested=later), TODAY)
    assert "requestedExecutionDate" not in payments.payment_body(profiles.KNAB, _batch(requested=TODAY), TODAY)


def test_payment_status_words():
    assert payments.map_status(profiles.ASN, {"transactionStatus": "REJECTED"}).phase == provider.PHASE_REJECTED
    assert payments.map_status(profiles.KNAB, {"transactionStatus": "ACSC"}).phase == provider.PHASE_EXECUTED
    assert payments.map_status(profiles.ASN, {"transactionStatus": "UNKNOWN"}).phase == provider.PHASE_RECEIVED
    with pytest.raises(provider.ProtocolError):
        payments.map_status(profiles.KNAB, {"transactionStatus": "PAID"})


def test_production_payment_with_an_http_return_address_is_refused_before_the_bank_is_called():
    config = providers.NextGenPsd2Config(client_id="c", client_secret="s", tls_cert_path="t", tls_key_path="k")

    class NoNetwork:
        def __getattr__(self, name):
            raise AssertionError(f"the bank was called ({name})")

    bank = providers.AsnProvider(config, psu_ip_address="192.0.2.1", session=NoNetwork())
    batch = dataclasses.replace(_batch(), redirect_uri="http://localhost:8069/bank_link/payment/back?state=s")
    with pytest.raises(provider.ConfigurationError, match="https"):
        bank.submit_payment_batch(batch)
