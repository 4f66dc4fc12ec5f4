"""Bank endpoints: https only, the bank's own hosts in production."""

import pytest

from l10n_nl_bankkoppeling.tools import endpoints

ING_HOSTS = ("api.ing.com",)


@pytest.mark.parametrize(
    "url",
    ["https://api.ing.com", "https://api.ing.com/", " https://API.ING.COM:443/ "],
)
def test_the_banks_own_https_host_passes(url):
    assert endpoints.validate(url, ING_HOSTS).lower().startswith("https://api.ing.com")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "empty"),
        ("http://api.ing.com", "not_https"),
        ("ftp://api.ing.com", "not_https"),
        ("https://user:pw@api.ing.com", "credentials"),
        ("https://", "no_host"),
        ("https://api.ing.com:notaport", "no_host"),
        ("https://api.ing.com.attacker.example", "foreign_host"),
        ("https://attacker.example/api.ing.com", "foreign_host"),
        ("https://sub.api.ing.com", "foreign_host"),
        ("https://127.0.0.1:8443", "foreign_host"),
    ],
)
def test_anything_else_is_refused_with_its_reason(url, code):
    with pytest.raises(endpoints.EndpointProblem) as caught:
        endpoints.validate(url, ING_HOSTS)
    assert caught.value.code == code
    assert not endpoints.is_valid(url, ING_HOSTS)


def test_without_a_host_list_any_https_host_passes_but_never_http():
    assert endpoints.is_valid("https://127.0.0.1:8443")
    assert not endpoints.is_valid("http://127.0.0.1:8443")


def test_host_reads_the_host_only():
    assert endpoints.host("https://myaccount.ing.com/granting/x/NL") == "myaccount.ing.com"
    assert endpoints.host("not a url") == ""
