"""The one bank transport: retries with Retry-After, fresh headers per
attempt, transport failures as typed errors."""

import pytest
import requests

from l10n_nl_bankkoppeling.tools import bank_http, provider


class FakeSession:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append(kwargs)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        response = requests.Response()
        response.status_code, retry_after = answer
        if retry_after is not None:
            response.headers["Retry-After"] = retry_after
        return response


def transport(session, slept, max_attempts=4):
    return bank_http.Transport(
        "Bank", session, ("c.pem", "k.pem"), "/ca.pem", 5.0,
        bank_http.RetryPolicy(max_attempts=max_attempts, base_delay=1.0, max_delay=20.0),
        slept.append,
    )


def test_transient_answers_are_retried_honouring_retry_after():
    slept, counter = [], iter(range(10))
    session = FakeSession((503, None), (429, "3"), (200, None))
    sent = transport(session, slept).send(
        "GET", "https://h/x", lambda: {"X-Request-ID": str(next(counter))}, context="c"
    )
    assert (sent.response.status_code, sent.attempts, sent.transient) == (200, 3, False)
    assert slept == [1.0, 3.0]
    assert [call["headers"]["X-Request-ID"] for call in session.calls] == ["0", "1", "2"]
    assert session.calls[0]["cert"] == ("c.pem", "k.pem")
    assert session.calls[0]["verify"] == "/ca.pem"
    assert session.calls[0]["allow_redirects"] is False


def test_retry_after_beyond_max_delay_comes_back_at_once():
    slept = []
    sent = transport(FakeSession((429, "600")), slept).send(
        "GET", "https://h/x", dict, context="c"
    )
    assert (sent.transient, sent.attempts, sent.retry_after, slept) == (True, 1, 600.0, [])


def test_last_transient_answer_is_returned_after_the_attempts():
    slept = []
    sent = transport(FakeSession((502, None), (502, None)), slept, max_attempts=2).send(
        "GET", "https://h/x", dict, context="c"
    )
    assert (sent.response.status_code, sent.attempts, slept) == (502, 2, [1.0])


def test_without_retry_one_attempt():
    slept = []
    sent = transport(FakeSession((503, None)), slept).send(
        "POST", "https://h/x", dict, context="c", retry=False
    )
    assert (sent.attempts, slept) == (1, [])


def test_time_outs_become_bank_unavailable_after_the_attempts():
    slept = []
    session = FakeSession(requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError())
    with pytest.raises(provider.BankUnavailableError, match="Bank did not answer .c. after 2"):
        transport(session, slept, max_attempts=2).send("GET", "https://h/x", dict, context="c")
    assert slept == [1.0]


@pytest.mark.parametrize(
    ("error", "expected", "text"),
    [
        (requests.exceptions.SSLError("bad cert"), provider.ConfigurationError, "TLS with Bank"),
        (requests.exceptions.ChunkedEncodingError(), provider.ProtocolError, "cut short"),
        (requests.exceptions.InvalidURL("x"), provider.ConfigurationError, "Cannot call Bank"),
        (OSError("no such file"), provider.ConfigurationError, "Cannot call Bank"),
    ],
)
def test_transport_failures_are_typed_and_not_retried(error, expected, text):
    slept = []
    with pytest.raises(expected, match=text):
        transport(FakeSession(error), slept).send("GET", "https://h/x", dict, context="c")
    assert slept == []
