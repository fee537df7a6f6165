import logging
from datetime import timezone

from odoo import api, fields, models

from einvoice.http import TransportError
from einvoice.pl.offline import AVAILABLE, MODE_OF_OUTAGE, Outage, current_outage, outages
from einvoice.pl.qr import Latarnia

_logger = logging.getLogger(__name__)

CATEGORIES = [("maintenance", "Maintenance"), ("failure", "Failure"), ("total_failure", "Total failure")]
STATUSES = [("available", "Available"), *CATEGORIES]


def _naive(moment):
    """An aware datetime as Odoo stores it: naive, in UTC."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment else False


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
    event_id = fields.Char(string="Event", readonly=True, help="Latarnia's identifier of the event.")
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


class L10nPlKsefConnection(models.Model):
    _inherit = "l10n_pl_ksef.connection"

    ksef_status = fields.Selection(
        STATUSES,
        string="KSeF availability",
        default="available",
        required=True,
        readonly=True,
        copy=False,
        help="What KSeF's availability service (Latarnia) last said. While KSeF is unavailable or failing, invoices "
        "are issued offline and sent once it is back; after a total failure they need not be sent at all.",
    )
    outage_id = fields.Many2one("l10n_pl_ksef.outage", string="Current outage", readonly=True, copy=False)
    outage_start = fields.Datetime(related="outage_id.start", string="Outage from")
    outage_end = fields.Datetime(related="outage_id.end", string="Outage until")
    outage_ids = fields.One2many("l10n_pl_ksef.outage", "connection_id", string="Announced outages", readonly=True)
    availability_checked_at = fields.Datetime(string="Availability checked", readonly=True, copy=False)

    def _ksef_latarnia(self):
        """KSeF's availability service for this connection's environment (under the other address, when set)."""
        self.ensure_one()
        base_url = self.sudo().base_url
        return Latarnia(self.environment, base_url=f"{base_url.rstrip('/')}/latarnia" if base_url else None)

    @api.model
    def _cron_read_availability(self):
        for connection in self.sudo().search([]):
            connection._ksef_read_availability()

    def action_read_availability(self):
        """Ask Latarnia now (what the scheduler does every few minutes)."""
        self.ensure_one()
        self._ksef_read_availability()
        return True

    def _ksef_read_availability(self):
        """Read Latarnia's status and announcements and take them; when Latarnia cannot be asked, what it said last
        stays (production's Latarnia out of reach is not news about KSeF)."""
        latarnia = self._ksef_latarnia()
        try:
            status = latarnia.status()
            messages = latarnia.messages()
        except TransportError as error:
            _logger.warning("KSeF availability of %s not read: %s", self.company_id.name, error)
            return
        self._ksef_take_availability(status.status, outages([*messages, *status.messages]))

    def _ksef_take_availability(self, status, announced):
        """Store Latarnia's ``status`` and its ``announced`` outages; when the status changes, say so and move the
        deadlines of the invoices waiting offline. Back to available, the queue is sent."""
        self.ensure_one()
        key = status.lower()
        if key not in dict(STATUSES):
            _logger.warning("KSeF availability: unknown status %r from Latarnia, ignored", status)
            return
        now = fields.Datetime.now()
        stored = {outage.event_id: outage for outage in self.outage_ids if outage.event_id}
        for outage in announced:
            values = {
                "category": outage.category.lower(),
                "title": outage.title,
                "text": outage.text,
                "start": _naive(outage.start),
                "end": _naive(outage.end),
            }
            if outage.event_id in stored:
                stored[outage.event_id].write(values)
            elif outage.category.lower() in dict(CATEGORIES):
                stored[outage.event_id] = self.env["l10n_pl_ksef.outage"].create(
                    {**values, "connection_id": self.id, "event_id": outage.event_id}
                )
        previous, was = self.outage_id, self.ksef_status
        current = current_outage(status, announced, fields.Datetime.to_datetime(now).replace(tzinfo=timezone.utc))
        record = self.env["l10n_pl_ksef.outage"]
        if current is not None:
            found = stored.get(current.event_id) if current.event_id else None
            if not found and previous.category == key and not previous.end:
                found = previous  # the same unannounced outage, still going on
            record = found or record.create({"connection_id": self.id, "category": key, "start": now})
        if previous and previous != record and not previous.end:
            previous.end = now  # over without an announced end: it ended when Latarnia stopped saying so
        self.write({"ksef_status": key, "outage_id": record.id, "availability_checked_at": now})
        if key != was:
            self._ksef_availability_changed(was)

    def _ksef_availability_changed(self, was):
        self.message_post(body=self._ksef_availability_text())
        moves = self.env["account.move"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("l10n_pl_ksef_offline", "=", True),
                ("einvoice_state", "not in", ("accepted", "processing", "sending")),
            ]
        )
        moves._l10n_pl_ksef_recompute_deadlines()
        if self.ksef_status == "available":
            self.env.ref("account_einvoice.ir_cron_einvoice_send")._trigger()

    def _ksef_outage_mode(self):
        """The offline mode invoices issued now take (offline during maintenance, emergency during a failure), or
        None when KSeF is available or totally down (invoices are then issued outside KSeF)."""
        return MODE_OF_OUTAGE.get(self.ksef_status.upper()) if self.ksef_status != AVAILABLE.lower() else None

    def _ksef_availability_text(self):
        """What Latarnia said, in words for the users of the connection and its invoices."""
        if self.ksef_status == "available":
            return self.env._("KSeF is available: the invoices issued offline are sent in the order they were issued.")
        if self.ksef_status == "total_failure":
            text = self.env._(
                "KSeF announced a total failure: invoices issued while it lasts need not be sent to KSeF "
                "(hand them to the buyers by any means), and those waiting to be sent need not be either."
            )
        elif self.ksef_status == "failure":
            text = self.env._(
                "KSeF announced a failure: invoices are issued offline in emergency mode and sent once KSeF "
                "is back, within 7 working days after the failure ends."
            )
        else:
            text = self.env._(
                "KSeF is unavailable: invoices are issued offline and sent once KSeF is back, by the next "
                "working day after the unavailability ends."
            )
        title = self.outage_id.title
        return f"{text} ({title})" if title else text
