"""The user's side of consent: choose account(s), confirm with a TAN, redirect back."""

import secrets
import urllib.parse

from . import pages
from .web import html_response, redirect

MAX_TAN_ATTEMPTS = 3


def redirect_back(redirect_uri, **params):
    parts = urllib.parse.urlsplit(redirect_uri)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query.extend((k, v) for k, v in params.items() if v is not None)
    return redirect(urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query))))


class ConsentFlowMixin:
    single_account = False

    def consent_accounts(self):
        return self.state.current_scenario().accounts[self.bank]

    def start_consent_page(self, start):
        """``start``: client_id, redirect_uri, state, scopes, tpp_name (+ bank extras)."""
        session = secrets.token_urlsafe(16)
        with self.state.lock:
            self.state.page_sessions[session] = {**start, "step": "accounts", "tan_attempts": 0}
        return html_response(pages.consent_page(
            self.bank, session, start["tpp_name"], start["scopes"], self.consent_accounts(), self.single_account))

    def continue_consent_page(self, request):
        session_id = request.form.get("session", "")
        with self.state.lock:
            session = self.state.page_sessions.get(session_id)
        if not session:
            return html_response(pages.error_page(self.bank, "Deze sessie is verlopen. Begin opnieuw."), 400)
        if request.form.get("action") == "cancel":
            self._forget(session_id)
            return redirect_back(session["redirect_uri"], error="access_denied", state=session.get("state"))
        if request.form.get("step") == "accounts" and session["step"] == "accounts":
            return self._choose_accounts(request, session_id, session)
        if request.form.get("step") == "tan" and session["step"] == "tan":
            return self._confirm_tan(request, session_id, session)
        return html_response(pages.error_page(self.bank, "Onverwachte stap. Begin opnieuw."), 400)

    def _choose_accounts(self, request, session_id, session):
        chosen = request.form.getlist("accounts")
        accounts = self.consent_accounts()
        by_value = {(a.iban if self.bank == "abnamro" else a.resource_id): a for a in accounts}
        error = None
        if not chosen:
            error = "Kies een rekening." if self.single_account else "Kies ten minste één rekening."
        elif self.single_account and len(chosen) != 1:
            error = "U kunt voor één rekening tegelijk toestemming geven."
        elif any(value not in by_value or not by_value[value].eligible for value in chosen):
            error = "Deze rekening kan niet gekoppeld worden."
        if error:
            return html_response(pages.consent_page(
                self.bank, session_id, session["tpp_name"], session["scopes"], accounts,
                self.single_account, error=error), 400)
        with self.state.lock:
            session["chosen"] = chosen
            session["chosen_ibans"] = [by_value[v].iban for v in chosen]
            session["step"] = "tan"
        return html_response(pages.tan_page(self.bank, session_id, self.settings["tan"], session["chosen_ibans"]))

    def _confirm_tan(self, request, session_id, session):
        if request.form.get("tan", "").strip() != self.settings["tan"]:
            with self.state.lock:
                session["tan_attempts"] += 1
                attempts = session["tan_attempts"]
            if attempts >= MAX_TAN_ATTEMPTS:
                self._forget(session_id)
                return redirect_back(session["redirect_uri"], error="access_denied", state=session.get("state"))
            return html_response(pages.tan_page(
                self.bank, session_id, self.settings["tan"], session["chosen_ibans"],
                error="Onjuiste code. Probeer het opnieuw."), 400)
        self._forget(session_id)
        code = self.grant_consent(session)
        return redirect_back(session["redirect_uri"], code=code, state=session.get("state"))

    def _forget(self, session_id):
        with self.state.lock:
            self.state.page_sessions.pop(session_id, None)

    def grant_consent(self, session):  # pragma: no cover - abstract
        raise NotImplementedError
