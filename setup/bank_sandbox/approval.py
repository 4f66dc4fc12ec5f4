"""The account holder approves a payment order at the bank: review, TAN, back to the TPP.

Like Mijn ING Zakelijk's "verzendlijst" and ABN AMRO Internet Banking's batch
authorisation: the page shows the order (number of payments, total, account),
asks for the TAN and then either redirects to the TPP (ING: TPP-Redirect-URI)
or, where the bank's protocol has no way back (ABN AMRO batches), says so.
Forms are plain HTML posts (``session``, ``step``, ``action``) so tests drive
them with ``requests``.
"""

import secrets
from decimal import Decimal
from html import escape

from . import pages
from .consentflow import MAX_TAN_ATTEMPTS
from .payments import OPEN, REJECTED, PaymentBook, PaymentError, count_and_total
from .web import html_response, redirect

KIND_LABELS = {
    "credit_transfer": ("Betaalopdracht", "Verzamelbetaling"),
    "direct_debit": ("Incasso-opdracht", "Incassobatch"),
}
ROWS_SHOWN = 25


def _euro(amount):
    text = f"{Decimal(amount):,.2f}"
    return "€ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


def _iban(iban):
    return pages._iban_grouped(iban or "")


def _summary_html(submission, accounts=None):
    count, total = count_and_total(submission)
    single, batch = KIND_LABELS[submission["kind"]]
    label = batch if count > 1 or submission.get("service") != "payments" else single
    own = "Tegenrekening" if submission["kind"] == "direct_debit" else "Van rekening"
    rows = []
    for payment in submission["payments"][:ROWS_SHOWN]:
        refused = payment["status"] == REJECTED
        note = (f' <span class="error">geweigerd: {escape(payment["reason"]["code"])} '
                f'{escape(payment["reason"]["text_nl"])}</span>') if refused else ""
        rows.append(
            f'<tr{" class=refused" if refused else ""}><td>{escape(payment.get("counterparty_name") or "")}'
            f'<div class="iban">{escape(_iban(payment.get("counterparty_iban")))}</div></td>'
            f'<td>{escape(payment.get("remittance") or payment.get("reference") or "")}{note}</td>'
            f'<td class="amount">{escape(_euro(payment["amount"]))}</td></tr>')
    more = len(submission["payments"]) - ROWS_SHOWN
    if more > 0:
        rows.append(f'<tr><td colspan="3">… en nog {more} posten</td></tr>')
    if submission.get("account"):
        account_html = f'<dd class="iban">{escape(_iban(submission["account"]))}</dd>'
    else:
        choices = "".join(
            f'<label class="account"><input type="radio" name="account" value="{escape(a.iban)}">'
            f'<span><strong>{escape(a.product)}</strong> &middot; {escape(a.holder)}'
            f'<div class="iban">{escape(_iban(a.iban))}</div></span></label>'
            for a in accounts or [])
        account_html = f"<dd>Kies de rekening:{choices}</dd>"
    reference = submission.get("message_id") or (submission.get("payment_information_ids") or [None])[0] \
        or submission["id"]
    return (
        f'<dl class="order"><dt>Soort</dt><dd>{escape(label)}</dd>'
        f"<dt>{own}</dt>{account_html}"
        f'<dt>Aantal posten</dt><dd class="count">{count}</dd>'
        f'<dt>Totaalbedrag</dt><dd class="total">{escape(_euro(total))}</dd>'
        + (f'<dt>Uitvoerdatum</dt><dd>{escape(submission["requested_date"])}</dd>'
           if submission.get("requested_date") else "")
        + f'<dt>Kenmerk</dt><dd>{escape(reference)}</dd></dl>'
        '<table class="payments"><tr><th>Naam / rekening</th><th>Omschrijving</th><th>Bedrag</th></tr>'
        + "".join(rows) + "</table>"
    )


STYLE = (
    "<style>.order{display:grid;grid-template-columns:160px 1fr;gap:6px 12px}.order dt{font-weight:bold}"
    ".order dd{margin:0}.payments{width:100%;border-collapse:collapse;margin:16px 0;font-size:14px}"
    ".payments td,.payments th{border-bottom:1px solid #e5e5e5;padding:6px;text-align:left;vertical-align:top}"
    ".amount{text-align:right;white-space:nowrap}.refused{color:#9b9b9b}.account{display:block;margin:6px 0}</style>"
)


def review_page(bank, session, submission, accounts=None, error=None):
    title = "Verzendlijst: opdracht ondertekenen" if bank == "ing" else "Batch autoriseren"
    body = (
        STYLE + f"<h1>{escape(title)}</h1>"
        "<p>Controleer de opdracht die uw boekhoudpakket heeft klaargezet.</p>"
        + (f'<p class="error">{escape(error)}</p>' if error else "")
        + f'<form method="post"><input type="hidden" name="session" value="{escape(session)}">'
        '<input type="hidden" name="step" value="review">'
        + _summary_html(submission, accounts)
        + '<p><button class="primary" name="action" value="approve">Ondertekenen</button> '
        '<button class="secondary" name="action" value="cancel">Annuleren</button></p></form>'
    )
    return pages._page(bank, title, body)


def tan_page(bank, session, tan, submission, error=None):
    count, total = count_and_total(submission)
    what = "TAN-code" if bank == "ing" else "identificatiecode"
    body = (
        STYLE + "<h1>Opdracht bevestigen</h1>"
        f'<p>U ondertekent <strong class="count">{count}</strong> posten, totaal '
        f'<strong class="total">{escape(_euro(total))}</strong>, rekening '
        f'<span class="iban">{escape(_iban(submission.get("account")))}</span>.</p>'
        + (f'<p class="error">{escape(error)}</p>' if error else "")
        + f'<div class="sandbox">Sandbox-TAN: <strong>{escape(tan)}</strong></div>'
        f'<form method="post"><input type="hidden" name="session" value="{escape(session)}">'
        '<input type="hidden" name="step" value="tan">'
        f'<p><label>Vul uw {what} in: <input name="tan" inputmode="numeric" autocomplete="one-time-code" autofocus>'
        "</label></p>"
        '<p><button class="primary" name="action" value="approve">Bevestigen</button> '
        '<button class="secondary" name="action" value="cancel">Annuleren</button></p></form>'
    )
    return pages._page(bank, "Opdracht bevestigen", body)


def done_page(bank, approved):
    if approved:
        title, text = "Opdracht ondertekend", "De opdracht is ondertekend en wordt verwerkt. U kunt dit venster sluiten."
    else:
        title, text = "Opdracht geannuleerd", "De opdracht is geannuleerd en wordt niet uitgevoerd."
    return pages._page(bank, title, f'<h1>{escape(title)}</h1><p class="outcome">{escape(text)}</p>')


class OrderApprovalMixin:
    """Needs ``self.state``, ``self.settings['tan']``, ``self.bank``; banks override the hooks."""

    def order_accounts(self, submission):
        """Accounts the user may pick when the order names none."""
        return [a for a in self.state.current_scenario().accounts[self.bank] if a.eligible]

    def order_return(self, submission, approved):
        """Where the browser goes afterwards: a redirect (ING) or a page (ABN AMRO)."""
        uri = submission.get("redirect_uri")
        if uri:
            return redirect(uri)
        return html_response(done_page(self.bank, approved))

    def start_order_page(self, submission):
        if submission["status"] not in OPEN:
            return html_response(pages.error_page(
                self.bank, "Deze opdracht is al verwerkt of geannuleerd en kan niet meer ondertekend worden."), 409)
        PaymentBook(self.state).opened(submission)
        session = secrets.token_urlsafe(16)
        with self.state.lock:
            self.state.page_sessions[session] = {"order": submission["id"], "step": "review", "tan_attempts": 0}
        return html_response(review_page(self.bank, session, submission, self._choices(submission)))

    def _choices(self, submission):
        return None if submission.get("account") else self.order_accounts(submission)

    def continue_order_page(self, request):
        session_id = request.form.get("session", "")
        with self.state.lock:
            session = self.state.page_sessions.get(session_id)
        book = PaymentBook(self.state)
        submission = book.get(session["order"]) if session and session.get("order") else None
        if not submission:
            return html_response(pages.error_page(self.bank, "Deze sessie is verlopen. Begin opnieuw."), 400)
        if submission["status"] not in OPEN:
            self._forget_order(session_id)
            return html_response(pages.error_page(self.bank, "Deze opdracht is al verwerkt."), 409)
        if request.form.get("action") == "cancel":
            self._forget_order(session_id)
            book.reject(submission, "CUST")
            return self.order_return(submission, approved=False)
        step = request.form.get("step")
        if step == "review" and session["step"] == "review":
            return self._reviewed(request, session_id, session, submission)
        if step == "tan" and session["step"] == "tan":
            return self._tan(request, session_id, session, submission, book)
        return html_response(pages.error_page(self.bank, "Onverwachte stap. Begin opnieuw."), 400)

    def _reviewed(self, request, session_id, session, submission):
        if not submission.get("account"):
            chosen = (request.form.get("account") or "").replace(" ", "").upper()
            allowed = {a.iban for a in self.order_accounts(submission)}
            if chosen not in allowed:
                return html_response(review_page(self.bank, session_id, submission, self._choices(submission),
                                                 error="Kies een rekening."), 400)
            session["account"] = chosen
        with self.state.lock:
            session["step"] = "tan"
        shown = dict(submission, account=submission.get("account") or session.get("account"))
        return html_response(tan_page(self.bank, session_id, self.settings["tan"], shown))

    def _tan(self, request, session_id, session, submission, book):
        shown = dict(submission, account=submission.get("account") or session.get("account"))
        if request.form.get("tan", "").strip() != self.settings["tan"]:
            with self.state.lock:
                session["tan_attempts"] += 1
                attempts = session["tan_attempts"]
            if attempts >= MAX_TAN_ATTEMPTS:
                self._forget_order(session_id)
                book.reject(submission, "MS02", "three wrong TAN codes")
                return self.order_return(submission, approved=False)
            return html_response(tan_page(self.bank, session_id, self.settings["tan"], shown,
                                          error="Onjuiste code. Probeer het opnieuw."), 400)
        self._forget_order(session_id)
        try:
            book.authorise(submission, session.get("account"))
        except PaymentError:
            return html_response(pages.error_page(self.bank, "Deze opdracht is al verwerkt."), 409)
        return self.order_return(submission, approved=True)

    def _forget_order(self, session_id):
        with self.state.lock:
            self.state.page_sessions.pop(session_id, None)


__all__ = ["OrderApprovalMixin"]
