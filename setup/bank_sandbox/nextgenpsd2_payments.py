"""NextGenPSD2 payment initiation (PIS) for Knab and de Volksbank: one SEPA credit transfer.

* Knab: ``POST /knab/openbanking/v1/payments/instant-sepa-credit-transfers`` (Berlin Group
  body, debtor account required, SCA by redirect) [I Y-knab]; authenticated with the
  application token and signed as the consent is (inferred); status at
  ``.../{paymentId}/status`` (Berlin Group; inferred for Knab).
* de Volksbank: ``POST /psd2/<brand>/v1/payments/sepa-credit-transfers`` with the plain
  client id in ``Authorization``, ``PSU-IP-Address`` and ``TPP-Redirect-URI`` required,
  ``creditorAccount``, ``creditorName`` and ``instructedAmount`` required, answer
  ``{paymentId, transactionStatus, _links.scaOAuth, _links.status}`` [C V-swagger]; status at
  ``/v1.1/payments/sepa-credit-transfers/{paymentId}/status`` [C V-swagger]. What is behind
  ``scaOAuth`` the Swagger does not say: here the bank's approval page (inferred).
* Triodos: the notes describe no payment interface; nothing here (the addon offers the file).

No bulk initiation: Knab's notes name none, de Volksbank's Swagger has a bulk *status* only,
so an order of more payments is the pain.001 file for the bank's portal. The order's life
cycle, approval page (TAN) and booking are the shared ones (payments.py, approval.py).
"""

import re

from .approval import OrderApprovalMixin
from .payments import OPEN, PaymentBook, PaymentError, money, new_submission
from .web import bearer_token, html_response, json_response, redirect

#: Berlin Group transactionStatus per stage of the sandbox's life cycle (inferred; de Volksbank's
#: initiation answer knows RCVD, its status answer the ISO codes [C V-swagger]).
STATUS = {"received": "RCVD", "authorising": "RCVD", "authorised": "ACCP", "accepted": "ACSP",
          "executed": "ACSC", "rejected": "RJCT", "cancelled": "CANC"}
IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
UUID = r"([0-9a-f-]{36})"


def pis_paths(bank, profile):
    """{initiate, status (a template with ``{id}``), page (its pattern)} of ``bank``, or None."""
    api = profile["api"]
    if bank == "knab":
        initiate = f"{api}/v1/payments/instant-sepa-credit-transfers"  # [I Y-knab]
        status = initiate + "/{id}/status"  # Berlin Group; inferred for Knab
    elif profile.get("volksbank"):
        initiate = f"{api}/v1/payments/sepa-credit-transfers"  # [C V-swagger]
        status = f"{api}/v1.1/payments/sepa-credit-transfers/" + "{id}/status"  # [C V-swagger]
    else:
        return None
    return {"initiate": initiate, "status": status,
            "status_re": re.compile("^" + re.escape(status).replace(re.escape("{id}"), UUID) + "$"),
            "page_re": re.compile("^" + re.escape(f"{profile['prefix']}/betalen/") + UUID + "/?$")}


def payment_status(submission):
    return STATUS[submission["status"]]


class NgPaymentsMixin(OrderApprovalMixin):
    """Mixed into NextGenPsd2BankApp (its checks, errors and state)."""

    def payments_dispatch(self, request):
        """The PIS answer for this request, or None when it is no PIS path."""
        paths = pis_paths(self.bank, self.profile)
        if not paths:
            return None
        match = paths["page_re"].match(request.path)
        if match:
            return self._payment_page(request, match.group(1))
        match = paths["status_re"].match(request.path)
        if match:
            if request.method != "GET":
                self._raise(405, "SERVICE_INVALID", "Use GET for the status")
            return self._payment_status(request, match.group(1))
        if request.path == paths["initiate"]:
            if request.method != "POST":
                self._raise(405, "SERVICE_INVALID", "Use POST to initiate a payment")
            return self._initiate_payment(request, paths)
        return None

    def _pis_client(self, request, kind):
        """Who calls: Knab's application token and signature, de Volksbank's plain client id."""
        self._require_cert(request)
        self._request_id(request)
        if self.bank == "knab":
            record = self.state.token(bearer_token(request), "app", "knab")
            if not record:
                self._raise(401, "TOKEN_INVALID", "An application token (client credentials) is required")
            self._check_signature(request, kind)  # as the consent / data calls; inferred
            return record["client_id"]
        if request.headers.get("Authorization") != self._settings()["client_id"]:
            self._raise(401, "TOKEN_INVALID", "Authorization must be the registered client id")  # [C V-swagger]
        if "Content-Type" not in request.headers:
            self._raise(400, "FORMAT_ERROR", "Content-Type is required")  # [C V-swagger]
        return self._settings()["client_id"]

    def _initiate_payment(self, request, paths):
        from .nextgenpsd2 import redirect_uri_ok

        client_id = self._pis_client(request, "consent")
        redirect_uri = request.headers.get("TPP-Redirect-URI", "")
        if not redirect_uri_ok(redirect_uri):
            self._raise(400, "FORMAT_ERROR", "TPP-Redirect-URI is required")  # [C V-swagger]
        if not request.headers.get("PSU-IP-Address"):
            self._raise(400, "FORMAT_ERROR", "PSU-IP-Address is required")  # [C V-swagger]
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict):
            self._raise(400, "FORMAT_ERROR", "The body must be a JSON object")
        amount = data.get("instructedAmount")
        if not isinstance(amount, dict) or amount.get("currency") != "EUR" or "amount" not in amount:
            self._raise(400, "FORMAT_ERROR", "instructedAmount {amount, currency EUR} is required")
        try:
            value = money(str(amount["amount"]))
        except PaymentError as error:
            self._raise(400, "FORMAT_ERROR", str(error))
        creditor = self._iban_of(data, "creditorAccount", required=True)
        debtor = self._iban_of(data, "debtorAccount", required=self.bank == "knab")  # [I Y-knab]
        if debtor:
            account = self.state.current_scenario().account_by_iban(self.bank, debtor)
            if account is None or not account.eligible:
                self._raise(400, "FORMAT_ERROR", f"{debtor} is not a payment account of {self.profile['name']}")
        name = data.get("creditorName")
        if not isinstance(name, str) or not 1 <= len(name) <= 70:
            self._raise(400, "FORMAT_ERROR", "creditorName is required (at most 70 characters)")
        e2e = data.get("endToEndIdentification")
        if e2e is not None and (not isinstance(e2e, str) or not 1 <= len(e2e) <= 35):
            self._raise(400, "FORMAT_ERROR", "endToEndIdentification: 1 to 35 characters")
        structured = data.get("remittanceInformationStructured")
        if structured is not None and (not isinstance(structured, str) or len(structured) > 35):
            # A string of at most 35 with issuerSRI "CUR" at de Volksbank [C V-swagger].
            self._raise(400, "FORMAT_ERROR", "remittanceInformationStructured: at most 35 characters")
        text = data.get("remittanceInformationUnstructured")
        if text is not None and (not isinstance(text, str) or len(text) > 140):
            self._raise(400, "FORMAT_ERROR", "remittanceInformationUnstructured: at most 140 characters")
        payment = {"end_to_end_id": e2e or "NOTPROVIDED", "amount": str(value), "currency": "EUR",
                   "counterparty_name": name, "counterparty_iban": creditor, "remittance": structured or text}
        submission = new_submission(self.bank, "credit_transfer", [payment], format="json", original=data,
                                    account=debtor, batch_booking=False, client_id=client_id,
                                    redirect_uri=redirect_uri, service="payments", berlin_group=True,
                                    request_id=request.headers["X-Request-ID"].lower())
        approval = f"https://{request.host}{self.profile['prefix']}/betalen/{submission['id']}"
        submission["approval_url"] = approval
        PaymentBook(self.state).add(submission)
        status_href = paths["status"].format(id=submission["id"])
        # Knab: scaRedirect (Berlin Group redirect approach) [I Y-knab]; de Volksbank: scaOAuth [C V-swagger].
        sca = "scaRedirect" if self.bank == "knab" else "scaOAuth"
        return json_response({"paymentId": submission["id"], "transactionStatus": payment_status(submission),
                              "_links": {sca: {"href": approval}, "status": {"href": status_href}}}, 201,
                             {"ASPSP-SCA-Approach": "REDIRECT"})

    def _iban_of(self, data, key, required):
        account = data.get(key)
        iban = account.get("iban") if isinstance(account, dict) else None
        if not iban:
            if required:
                self._raise(400, "FORMAT_ERROR", f"{key}.iban is required")
            return None
        if not isinstance(iban, str) or not IBAN.match(iban):
            self._raise(400, "FORMAT_ERROR", f"{key}.iban is not an IBAN")
        return iban

    def _payment_status(self, request, payment_id):
        client_id = self._pis_client(request, "data")
        submission = PaymentBook(self.state).get(payment_id, self.bank)
        if submission is None or submission.get("client_id") != client_id:
            self._raise(404, "RESOURCE_UNKNOWN", "The payment is unknown")
        return json_response({"transactionStatus": payment_status(submission)})

    def _payment_page(self, request, payment_id):
        submission = PaymentBook(self.state).get(payment_id, self.bank)
        if submission is None:
            return html_response(self._page("Er ging iets mis", '<p class="error">Onbekende opdracht.</p>'), 404)
        if request.method == "POST":
            return self.continue_order_page(request)
        if submission["status"] not in OPEN:
            return html_response(self._page("Er ging iets mis", '<p class="error">Deze opdracht is al verwerkt.</p>'), 409)
        return self.start_order_page(submission)

    def order_return(self, submission, approved):
        # Back to the TPP either way; the status call tells what happened [C V-swagger: one redirect URI].
        return redirect(submission["redirect_uri"])
