from datetime import timezone

from odoo import api, fields, models

from einvoice.pl.offline import Outage

CATEGORIES = [("maintenance", "Maintenance"), ("failure", "Failure"), ("total_failure", "Total failure")]
STATUSES = [("available", "Available"), *CATEGORIES]


def naive(moment):
    """An aware datetime as Odoo stores it: naive, in UTC, to the second."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0) if moment else False


def _aware(moment):
    return moment.replace(tzinfo=timezone.utc) if moment else None


class L10nPlKsefOutage(models.Model):
    """An event KSeF's availability service (Latarnia) announced: planned maintenance, a failure or a total
    failure. Kept because the send deadline of an invoice issued offline counts from the end of the outage it was
    issued in, and moves with every failure announced while it waits."""

    _name = "l10n_pl_ksef.outage"
    _description = "KSeF outage"
    _order = "start desc, id desc"

    connection_id = fields.Many2one("l10n_pl_ksef.connection", required=True, ondelete="cascade", index=True)
    event_id = fields.Char(readonly=True, help="Latarnia's identifier of the event.")
    category = fields.Selection(CATEGORIES, required=True, readonly=True)
    title = fields.Char(readonly=True)
    text = fields.Text(readonly=True)
    start = fields.Datetime(readonly=True)
    end = fields.Datetime(readonly=True, help="Empty while the outage lasts, or while its end is not announced.")

    _event_uniq = models.Constraint("UNIQUE(connection_id, event_id)", "An event is stored once per connection.")

    @api.depends("category", "title", "start")
    def _compute_display_name(self):
        labels = dict(self._fields["category"]._description_selection(self.env))
        for outage in self:
            outage.display_name = outage.title or labels.get(outage.category, "")

    def _as_outage(self):
        """The library's view of this event."""
        self.ensure_one()
        return Outage(self.category.upper(), _aware(self.start), _aware(self.end), self.event_id or None, self.title)
