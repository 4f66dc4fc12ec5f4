# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reasons stored before codes existed: versions before 18.0.1.1.0 wrote the
matcher's reason as English text on the bank line (column
``nl_reconcile_reason``, later ``nl_reconcile_reason_text``). The ones that
are a reason of ours become its code and parameters, so a Dutch reader sees
them in Dutch; other texts (a payment batch's, typed by other code) are kept
as text."""

import json
import logging

from odoo.tools import SQL
from odoo.tools.sql import column_exists

from odoo.addons.l10n_nl_bankkoppeling.tools import matching

_logger = logging.getLogger(__name__)


def convert_reasons(cr):
    """Convert the English reasons of lines without a reason code; returns
    how many lines got a code."""
    if column_exists(cr, "account_bank_statement_line", "nl_reconcile_reason"):
        # The old stored column: its text moves to the text field first.
        cr.execute(SQL("""
            UPDATE account_bank_statement_line
               SET nl_reconcile_reason_text = nl_reconcile_reason
             WHERE nl_reconcile_reason IS NOT NULL AND nl_reconcile_reason != ''
               AND nl_reconcile_reason_code IS NULL AND nl_reconcile_reason_text IS NULL
        """))
    cr.execute(SQL("""
        SELECT id, nl_reconcile_reason_text FROM account_bank_statement_line
         WHERE nl_reconcile_reason_code IS NULL AND nl_reconcile_reason_text IS NOT NULL
    """))
    rows = []
    for line_id, text in cr.fetchall():
        parsed = matching.parse_reason(text)
        if parsed:
            rows.append((line_id, parsed[0], json.dumps(parsed[1])))
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        cr.execute(SQL(
            """
            UPDATE account_bank_statement_line line
               SET nl_reconcile_reason_code = v.code,
                   nl_reconcile_reason_args = v.args::jsonb,
                   nl_reconcile_reason_text = NULL
              FROM (VALUES %s) AS v(id, code, args)
             WHERE line.id = v.id
            """,
            SQL(", ").join(SQL("(%s, %s, %s)", *row) for row in chunk),
        ))
    _logger.info("Bank lines: %s English reasons stored as codes", len(rows))
    return len(rows)


def migrate(cr, version):
    if not version:
        return
    convert_reasons(cr)
