"""Common WSGI plumbing for both banks: admin API, faults, request log, TLS."""

import json
import logging
import secrets
import ssl
import threading
import time

from werkzeug.serving import WSGIRequestHandler, make_server

from .payment_admin import PaymentAdminMixin
from .scenario import BANKS
from .web import Request, Response, json_response

ADMIN_PREFIX = "/_sandbox/"
# Query parameters whose values never reach the log.
SECRET_PARAMS = {"code", "token", "refresh_token", "access_token", "state", "client_secret"}


class QuietHandler(WSGIRequestHandler):
    """The sandbox writes its own log without query strings (they may hold codes)."""

    def log_request(self, code="-", size="-"):
        pass


def _redacted_query(request):
    parts = []
    for key, value in request.args.items(multi=True):
        parts.append(f"{key}={'***' if key in SECRET_PARAMS else value}")
    return "&".join(parts)


class BankApp(PaymentAdminMixin):
    """Base WSGI application; subclasses implement ``dispatch`` and error bodies."""

    bank = ""

    def __init__(self, state, cert_checker, settings):
        self.state = state
        self.certs = cert_checker
        self.settings = settings  # {"tan": ..., "ports": {...}}

    # ------------------------------------------------------------ WSGI
    def __call__(self, environ, start_response):
        request = Request(environ)
        # Read the raw body first: the Digest check needs it and werkzeug
        # would otherwise consume it while parsing the form.
        request.get_data(cache=True)
        environ["sandbox.log"] = {}
        # Orders move on by the sandbox clock; the next request sees the result.
        self.tick_payments()
        if request.path.startswith(ADMIN_PREFIX):
            response = self.admin(request)
            return response(environ, start_response)
        started = time.monotonic()
        fault = self.state.take_fault(self.bank, request.method, request.path)
        response = None
        if fault:
            environ["sandbox.log"]["fault"] = fault["error"]
            response = self.fault_before(fault, request)
        if response is None:
            try:
                response = self.dispatch(request)
            except Exception:  # the sandbox must answer like a bank, not crash
                logging.getLogger("bank_sandbox").exception("handler failed")
                response = self.error_response(request, 500, None)
        if fault:
            response = self.fault_after(fault, response)
        response = self.finish_response(request, response, fault)
        self._log(request, response, environ["sandbox.log"], started)
        return response(environ, start_response)

    def _log(self, request, response, extra, started):
        entry = {
            "bank": self.bank,
            "method": request.method,
            "path": request.path,
            "query": _redacted_query(request),
            "status": response.status_code,
            "client_cert": bool(request.environ.get("SSL_CLIENT_CERT")),
            "ms": round((time.monotonic() - started) * 1000, 1),
            **extra,
        }
        self.state.record(entry)
        print(
            f"[{self.bank}] {request.method} {request.path} -> {response.status_code}"
            + (f" ({extra['fault']})" if "fault" in extra else ""),
            flush=True,
        )

    # ------------------------------------------------------------ faults
    def fault_before(self, fault, request):
        error = str(fault["error"])
        if error.isdigit():
            response = self.error_response(request, int(error), fault)
            if fault.get("body") is not None:
                response.set_data(json.dumps(fault["body"]))
            if fault.get("retry_after") is not None:
                response.headers["Retry-After"] = str(fault["retry_after"])
            return response
        if error == "timeout":
            time.sleep(float(fault.get("seconds", 30)))
            return None
        if error in ("expire_consent", "revoke_consent"):
            status = "expired" if error == "expire_consent" else "revoked"
            consent_id = self.consent_of_request(request)
            if consent_id:
                self.state.end_consent(consent_id, status)
            else:
                self.state.end_all_consents(self.bank, status)
            return None
        if error in ("truncate", "malformed"):
            return None
        raise ValueError(f"unknown fault {error}")

    def fault_after(self, fault, response):
        error = fault["error"]
        if error == "truncate":
            body = response.get_data()
            response.set_data(body[: max(1, len(body) // 2)])
        elif error == "malformed":
            # What a proxy or WAF in front of a bank sends: HTML, labelled JSON.
            response.set_data(b"<html><head><title>Request Rejected</title></head>"
                              b"<body>The requested URL was rejected.</body></html>")
            response.status_code = 200
            response.mimetype = "application/json"
        return response

    def consent_of_request(self, request):
        from .web import bearer_token

        for token in (bearer_token(request), request.form.get("refresh_token")):
            record = self.state.raw_token(token) if token else None
            if record and record.get("consent_id"):
                return record["consent_id"]
        return None

    # ------------------------------------------------------------ admin
    def admin(self, request):
        if request.remote_addr not in ("127.0.0.1", "::1"):
            return json_response({"message": "admin API is for loopback only"}, 403)
        name = request.path[len(ADMIN_PREFIX):].strip("/")
        handler = getattr(self, "admin_" + name.replace("/", "_"), None)
        if handler is None:
            return json_response({"message": f"no admin endpoint {name}"}, 404)
        try:
            return handler(request)
        except (ValueError, KeyError, TypeError) as error:
            return json_response({"message": str(error)}, 400)

    def _json_body(self, request):
        try:
            return json.loads(request.get_data(as_text=True) or "null")
        except ValueError as error:
            raise ValueError(f"body is not JSON: {error}") from None

    def admin_health(self, request):
        return json_response({"status": "ok", "bank": self.bank, "ports": self.settings["ports"]})

    def admin_info(self, request):
        scenario = self.state.current_scenario()
        accounts = {
            bank: [
                {"iban": a.iban, "resourceId": a.resource_id, "holder": a.holder,
                 "product": a.product, "currency": a.currency, "kind": a.kind,
                 "eligible": a.eligible, "booked": len(a.booked), "pending": len(a.pending),
                 "balance": a.booked_balance, "expected_balance": a.expected_balance()}
                for a in scenario.accounts[bank]
            ]
            for bank in BANKS
        }
        return json_response({
            "today": scenario.today.isoformat(),
            "tan": self.settings["tan"],
            "ports": self.settings["ports"],
            "abnamro": {"client_id": scenario.abnamro["client_id"], "api_key": scenario.abnamro["api_key"]},
            "rabobank": {"client_id": scenario.rabobank["client_id"],
                         "client_secret": scenario.rabobank["client_secret"]},
            "bunq": {key: scenario.bunq[key] for key in ("client_id", "client_secret", "api_key",
                                                          "company_user_id")},
            "accounts": accounts,
        })

    def admin_scenario(self, request):
        if request.method == "GET":
            return json_response(self.state.current_scenario().raw)
        if request.method in ("POST", "PUT"):
            self.state.set_scenario(self._json_body(request) or {})
            return self.admin_info(request)
        return json_response({"message": "use GET or POST"}, 405)

    def admin_transactions(self, request):
        body = self._json_body(request)
        self.state.add_transactions(body.get("bank", self.bank), body["iban"], body["transactions"])
        return self.admin_info(request)

    def admin_faults(self, request):
        if request.method == "DELETE":
            self.state.clear_faults()
            return json_response({"faults": []})
        if request.method == "POST":
            body = self._json_body(request)
            faults = body if isinstance(body, list) else body.get("faults", [body])
            return json_response({"faults": self.state.add_faults(faults)})
        with self.state.lock:
            return json_response({"faults": list(self.state.faults)})

    def admin_log(self, request):
        if request.method == "DELETE":
            with self.state.lock:
                self.state.log.clear()
            return json_response({"log": []})
        since = int(request.args.get("since", 0))
        bank = request.args.get("bank")
        with self.state.lock:
            entries = [e for e in self.state.log if e["seq"] > since and (not bank or e["bank"] == bank)]
        return json_response({"log": entries})

    def admin_clock(self, request):
        if request.method == "POST":
            body = self._json_body(request) or {}
            with self.state.lock:
                advance = float(body.get("advance", 0))
                self.state.clock_offset += advance
                if body.get("calendar", True):
                    self.state.calendar_offset += advance
                self.state.save()
        return json_response({"now": self.state.now(), "offset": self.state.clock_offset})

    def admin_reset(self, request):
        """Forget tokens, consents, codes, faults, log and clock; load a scenario."""
        body = self._json_body(request) or {}
        self.state.reset(body.get("scenario") or {})
        return self.admin_info(request)

    def admin_consents(self, request):
        """POST {"action": "expire"|"revoke"} ends every active consent of this bank."""
        if request.method == "POST":
            body = self._json_body(request) or {}
            action = body.get("action", "expire")
            if action not in ("expire", "revoke"):
                raise ValueError("action must be expire or revoke")
            self.state.end_all_consents(body.get("bank", self.bank), action + "d")
        with self.state.lock:
            consents = [
                {"id": cid, "bank": c["bank"], "status": c["status"],
                 "accounts": c.get("accounts", []), "valid_until": c["valid_until"]}
                for cid, c in self.state.consents.items()
            ]
        return json_response({"consents": consents})

    # ------------------------------------------------------------ subclass API
    def finish_response(self, request, response, fault):
        """Last touch before the answer leaves (bunq signs it here)."""
        return response

    def dispatch(self, request):  # pragma: no cover - abstract
        raise NotImplementedError

    def error_response(self, request, status, fault):  # pragma: no cover - abstract
        raise NotImplementedError


def ssl_context(cert_dir):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_dir / "server.pem"), str(cert_dir / "server.key"))
    context.load_verify_locations(str(cert_dir / "ca.pem"))
    # Optional at TLS level so a browser opens the consent pages without a
    # client certificate; the API handlers refuse requests that lack one.
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


def serve(app, host, port, context):
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, name=f"sandbox-{app.bank}", daemon=True)
    return server, thread


def new_reference():
    return secrets.token_hex(32)


__all__ = ["BankApp", "ssl_context", "serve", "new_reference", "Response"]
