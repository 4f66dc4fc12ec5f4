"""The NextGenPSD2 providers' facts per bank and their configuration checks (no network)."""

import pytest

from account_bank_link_nextgenpsd2.tools import nextgenpsd2_provider as providers
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
