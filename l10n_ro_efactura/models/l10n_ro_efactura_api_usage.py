from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.account_einvoice.tools.shared_budget import own_transaction


class L10nRoEfacturaApiUsage(models.Model):
    """How many calls of each limited kind went to ANAF on a day: kept in the database, so ANAF's daily limits hold
    across cron runs, restarts and workers."""

    _name = "l10n_ro_efactura.api.usage"
    _description = "ANAF calls per day"

    day = fields.Char(required=True, readonly=True)
    limit_name = fields.Char(required=True, readonly=True)
    subject = fields.Char(required=True, readonly=True, help="The CUI or message the limit counts for.")
    count = fields.Integer(readonly=True)

    _unique_key = models.Constraint("UNIQUE(day, limit_name, subject)", "One counter per day, limit and subject.")

    def take(self, key, limit):
        """Count one call under ``key`` = ``(day, limit_name, subject)`` unless ``limit`` are counted already, in one
        statement (two workers cannot both take the last one), committed at once: a call made stays counted even
        when the work that made it is rolled back. Whether it was counted."""
        with own_transaction(self.env.registry) as cr:
            cr.execute(
                "INSERT INTO l10n_ro_efactura_api_usage AS usage (day, limit_name, subject, count)"
                " VALUES (%s, %s, %s, 1) ON CONFLICT (day, limit_name, subject)"
                " DO UPDATE SET count = usage.count + 1 WHERE usage.count < %s RETURNING count",
                [*key, limit],
            )
            return bool(cr.fetchone())

    @api.autovacuum
    def _gc_past_days(self):
        """Counters of days ANAF no longer counts go (Odoo's daily autovacuum)."""
        self.search([("day", "<", fields.Date.to_string(fields.Date.today() - timedelta(days=2)))]).unlink()
