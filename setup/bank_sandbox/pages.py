"""Consent pages in the banks' look (Dutch, as the banks show them to a Dutch user).

Forms are plain HTML posts so tests can drive them with ``requests``:
every form carries ``session`` (hidden) and ``action`` (approve | cancel).
"""

from html import escape

ING_STYLE = """
body{margin:0;font-family:'ING Me',Arial,Helvetica,sans-serif;background:#f0f0f0;color:#333}
header{background:#fff;border-bottom:4px solid #ff6200;padding:14px 24px;display:flex;align-items:center;gap:12px}
.logo{font-weight:bold;font-size:26px;color:#ff6200;letter-spacing:1px}
.logo small{display:block;font-size:11px;color:#525199;letter-spacing:0}
main{max-width:640px;margin:28px auto;background:#fff;border-radius:4px;padding:24px 32px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
h1{color:#ff6200;font-size:24px;margin-top:0}
.account{display:flex;gap:12px;align-items:flex-start;padding:12px 0;border-bottom:1px solid #e5e5e5}
.account.disabled{color:#9b9b9b}
.reason{font-size:13px;color:#9b9b9b;margin-top:2px}
.iban{font-family:monospace;font-size:15px}
button{border:0;border-radius:3px;padding:11px 22px;font-size:16px;cursor:pointer}
.primary{background:#ff6200;color:#fff}.secondary{background:#fff;color:#525199;border:1px solid #525199}
.sandbox{background:#fff7e6;border:1px dashed #ff6200;padding:8px 12px;margin:12px 0;font-size:14px}
.error{color:#d0021b;font-weight:bold}
.scopes li{margin:4px 0}
"""

ABN_STYLE = """
body{margin:0;font-family:Arial,Helvetica,sans-serif;background:#f3f3f3;color:#222}
header{background:#004c4c;padding:14px 24px;display:flex;align-items:center;gap:12px}
.logo{font-weight:bold;font-size:22px;color:#fff}
.shield{display:inline-block;width:26px;height:26px;vertical-align:middle;margin-right:8px;
  background:linear-gradient(135deg,#00857a 50%,#ffd200 50%);border-radius:3px 3px 13px 13px}
main{max-width:620px;margin:28px auto;background:#fff;padding:24px 32px;border-top:4px solid #ffd200}
h1{color:#004c4c;font-size:24px;margin-top:0}
.account{display:flex;gap:12px;align-items:flex-start;padding:12px 0;border-bottom:1px solid #e1e1e1}
.account.disabled{color:#a0a0a0}
.reason{font-size:13px;color:#a0a0a0}
.iban{font-family:monospace;font-size:15px}
button{border:0;padding:11px 22px;font-size:16px;cursor:pointer;border-radius:2px}
.primary{background:#00857a;color:#fff}.secondary{background:#fff;color:#004c4c;border:1px solid #004c4c}
.sandbox{background:#fffbe0;border:1px dashed #c8a800;padding:8px 12px;margin:12px 0;font-size:14px}
.error{color:#c00;font-weight:bold}
"""

RABO_STYLE = """
body{margin:0;font-family:'Myriad Pro',Arial,Helvetica,sans-serif;background:#f5f5f5;color:#000066}
header{background:#000099;padding:14px 24px;display:flex;align-items:center;gap:12px}
.logo{font-weight:bold;font-size:24px;color:#fff}
.logo small{display:block;font-size:11px;color:#fd6400;font-weight:normal}
.mark{display:inline-block;width:24px;height:24px;background:#fd6400;border-radius:50%;vertical-align:middle;margin-right:8px}
main{max-width:620px;margin:28px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,102,.15)}
h1{color:#000099;font-size:24px;margin-top:0}
.account{display:flex;gap:12px;align-items:flex-start;padding:12px 0;border-bottom:1px solid #e0e0ee}
.account.disabled{color:#9a9ab8}
.reason{font-size:13px;color:#9a9ab8}
.iban{font-family:monospace;font-size:15px}
button{border:0;padding:11px 22px;font-size:16px;cursor:pointer;border-radius:20px}
.primary{background:#fd6400;color:#fff}.secondary{background:#fff;color:#000099;border:1px solid #000099}
.sandbox{background:#fff3e8;border:1px dashed #fd6400;padding:8px 12px;margin:12px 0;font-size:14px}
.error{color:#c00;font-weight:bold}
"""

BUNQ_STYLE = """
body{margin:0;font-family:'Montserrat',Arial,Helvetica,sans-serif;background:#121212;color:#f5f5f5}
header{background:#1d1d1d;padding:14px 24px;display:flex;align-items:center;gap:12px}
.logo{font-weight:bold;font-size:26px;letter-spacing:-1px;
  background:linear-gradient(90deg,#3394d7,#2ea44f,#f2c012,#f07a20,#e5312b);-webkit-background-clip:text;color:transparent}
.logo small{display:block;font-size:11px;color:#9b9b9b;letter-spacing:0;-webkit-text-fill-color:#9b9b9b}
main{max-width:600px;margin:28px auto;background:#1d1d1d;padding:24px 32px;border-radius:14px}
h1{font-size:24px;margin-top:0}
.account{display:flex;gap:12px;align-items:flex-start;padding:12px 0;border-bottom:1px solid #2c2c2c}
.account.disabled{color:#6b6b6b}
.reason{font-size:13px;color:#8a8a8a}
.iban{font-family:monospace;font-size:15px}
button{border:0;padding:12px 24px;font-size:16px;cursor:pointer;border-radius:24px}
.primary{background:#3394d7;color:#fff}.secondary{background:#2c2c2c;color:#f5f5f5}
.sandbox{background:#2a2410;border:1px dashed #f2c012;padding:8px 12px;margin:12px 0;font-size:14px}
.error{color:#ff5a5a;font-weight:bold}
"""

SCOPE_LABELS = {
    "ais.balances.read": "Saldo van uw rekening bekijken (180 dagen)",
    "ais.transactions.read-90days": "Transacties van de afgelopen 90 dagen bekijken (180 dagen lang)",
    "ais.transactions.read-history": "Eenmalig de volledige transactiehistorie bekijken",
    "oauth2.consents.read": "Uw toestemmingen bekijken",
    "payment-accounts:balances:view": "Saldo van uw rekening bekijken",
    "payment-accounts:transactions:view": "Transacties van uw rekening bekijken",
    "psd2:account:balance:read": "Saldo bekijken",
    "psd2:account:transaction:read": "Transacties bekijken",
    "psd2:account:details:read": "Rekeninggegevens bekijken",
    "psd2:payment:batchsct:write": "Batches met overboekingen (SEPA) klaarzetten om te ondertekenen",
    "psd2:payment:batchsdd:write": "Batches met incasso's (SEPA) klaarzetten om te ondertekenen",
    # bunq: the AISP permissions an OAuth grant gives [C B-doc].
    "bunq:ais": "Naam, IBAN, saldo en transacties van de gekozen rekeningen bekijken",
}


#: More banks' look (bank -> (CSS, logo HTML)), registered by their modules (nextgenpsd2.py).
BRANDS = {}


def _page(bank, title, body):
    if bank == "ing":
        style, logo = ING_STYLE, '<div class="logo">ING<small>Mijn ING Zakelijk</small></div>'
    elif bank == "rabobank":
        style = RABO_STYLE
        logo = '<div class="logo"><span class="mark"></span>Rabobank<small>Rabo Internet Bankieren Zakelijk</small></div>'
    elif bank == "bunq":
        style, logo = BUNQ_STYLE, '<div class="logo">bunq<small>bunq Business</small></div>'
    elif bank in BRANDS:
        style, logo = BRANDS[bank]
    else:
        style, logo = ABN_STYLE, '<div class="logo"><span class="shield"></span>ABN AMRO</div>'
    return (
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{style}</style></head><body><header>{logo}</header><main>{body}</main></body></html>"
    )


def _iban_grouped(iban):
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def consent_page(bank, session, tpp_name, scopes, accounts, single, error=None):
    """Step 1: choose accounts. ``accounts`` are scenario Account objects."""
    kind = "radio" if single else "checkbox"
    rows = []
    for account in accounts:
        disabled = "" if account.eligible else " disabled"
        value = account.iban if bank == "abnamro" else account.resource_id
        reason = (
            f'<div class="reason">{escape(account.ineligible_reason)}</div>' if not account.eligible else ""
        )
        rows.append(
            f'<label class="account{disabled and " disabled"}">'
            f'<input type="{kind}" name="accounts" value="{escape(value)}"{disabled}>'
            f'<div><div><strong>{escape(account.product)}</strong> &middot; {escape(account.holder)}</div>'
            f'<div class="iban">{escape(_iban_grouped(account.iban))} ({escape(account.currency)})</div>{reason}</div>'
            "</label>"
        )
    scope_items = "".join(f"<li>{escape(SCOPE_LABELS.get(s, s))}</li>" for s in scopes)
    question = "Kies de rekening" if single else "Kies de rekeningen"
    body = (
        "<h1>Toestemming geven</h1>"
        f"<p><strong>{escape(tpp_name)}</strong> vraagt toegang tot uw rekeninggegevens:</p>"
        f'<ul class="scopes">{scope_items}</ul>'
        + (f'<p class="error">{escape(error)}</p>' if error else "")
        + f'<form method="post"><input type="hidden" name="session" value="{escape(session)}">'
        f'<input type="hidden" name="step" value="accounts"><p>{question} waarvoor u toestemming geeft:</p>'
        + "".join(rows)
        + '<p><button class="primary" name="action" value="approve">Doorgaan</button> '
        '<button class="secondary" name="action" value="cancel">Annuleren</button></p></form>'
    )
    return _page(bank, "Toestemming geven", body)


def tan_page(bank, session, tan, chosen, error=None):
    chosen_list = "".join(f'<li class="iban">{escape(_iban_grouped(i))}</li>' for i in chosen)
    what = {"ing": "TAN-code", "rabobank": "code uit de Rabo Scanner",
            "bunq": "bevestigingscode uit de bunq-app"}.get(bank, "identificatiecode")
    body = (
        "<h1>Toestemming bevestigen</h1>"
        f"<p>U geeft toestemming voor:</p><ul>{chosen_list}</ul>"
        + (f'<p class="error">{escape(error)}</p>' if error else "")
        + f'<div class="sandbox">Sandbox-TAN: <strong>{escape(tan)}</strong></div>'
        f'<form method="post"><input type="hidden" name="session" value="{escape(session)}">'
        f'<input type="hidden" name="step" value="tan">'
        f'<p><label>Vul uw {what} in: <input name="tan" inputmode="numeric" autocomplete="one-time-code" autofocus></label></p>'
        '<p><button class="primary" name="action" value="approve">Bevestigen</button> '
        '<button class="secondary" name="action" value="cancel">Annuleren</button></p></form>'
    )
    return _page(bank, "Toestemming bevestigen", body)


def error_page(bank, message):
    return _page(bank, "Er ging iets mis", f"<h1>Er ging iets mis</h1><p class=\"error\">{escape(message)}</p>")
