from datetime import timedelta

from odoo import api, fields, models


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

    def used(self, key):
        self.env.cr.execute(
            "SELECT count FROM l10n_ro_efactura_api_usage WHERE day = %s AND limit_name = %s AND subject = %s", key
        )
        row = self.env.cr.fetchone()
        return row[0] if row else 0

    def add(self, key):
        self.env.cr.execute(
            "INSERT INTO l10n_ro_efactura_api_usage (day, limit_name, subject, count) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (day, limit_name, subject) DO UPDATE SET count = l10n_ro_efactura_api_usage.count + 1",
            key,
        )

    @api.autovacuum
    def _gc_past_days(self):
        """Counters of days ANAF no longer counts go (Odoo's daily autovacuum)."""
        self.search([("day", "<", fields.Date.to_string(fields.Date.today() - timedelta(days=2)))]).unlink()
