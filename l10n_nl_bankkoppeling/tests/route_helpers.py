# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The browser's path through a route that changes something: the
confirmation page (GET), then its button (a POST carrying Odoo's CSRF
token), as a user clicks it."""

import lxml.html


def confirmation_form(case, response):
    """(action, fields) of the one POST form on a confirmation page."""
    case.assertEqual(response.status_code, 200, response.text[:1000])
    forms = lxml.html.fromstring(response.text).xpath("//form[@method='post']")
    case.assertEqual(len(forms), 1, response.text[:1000])
    fields = {
        field.get("name"): field.get("value") or ""
        for field in forms[0].xpath(".//input[@name]")
    }
    case.assertTrue(fields.get("csrf_token"), "the form carries Odoo's CSRF token")
    return forms[0].get("action"), fields


def confirm(case, url):
    """Open ``url`` and press the page's confirmation button: the POST's answer."""
    page = case.url_open(url, allow_redirects=False)
    action, fields = confirmation_form(case, page)
    return case.url_open(action, data=fields, allow_redirects=False)


def back_link(response):
    """Where the message page's "back" link goes (None without one)."""
    links = lxml.html.fromstring(response.text).xpath("//a[contains(@class, 'o_bank_link_back')]")
    return links[0].get("href") if links else None
