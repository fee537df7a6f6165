from odoo import api, fields, models


class AccountEinvoicePlatformCall(models.Model):
    """One call made to a platform, counted against its rate limits by every Odoo process (see
    ``tools/shared_budget.py``); calls older than the longest window are deleted as the budget goes."""

    _name = "account.einvoice.platform.call"
    _description = "E-invoice platform call"
    _log_access = False

    bucket = fields.Char(required=True, readonly=True, help="What the platform counts the call against.")
    called_at = fields.Float(required=True, readonly=True, help="When it went, in seconds since the epoch.")
    answered_at = fields.Float(readonly=True, help="When its answer came (empty while it is in flight).")

    _bucket_answered_at_idx = models.Index("(bucket, answered_at)")

    @api.autovacuum
    def _gc_old_calls(self):
        """Calls of buckets no longer used go with Odoo's daily autovacuum (no window is longer than a day)."""
        self.env.cr.execute(
            "DELETE FROM account_einvoice_platform_call WHERE called_at < extract(epoch FROM now()) - 86400"
        )
