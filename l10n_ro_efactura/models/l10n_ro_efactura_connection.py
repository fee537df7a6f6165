import dataclasses
import hashlib
import logging
import time
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.account_einvoice.tools.notification import notification
from odoo.addons.account_einvoice.tools.sandbox import sandbox
from odoo.addons.account_einvoice.tools.shared_budget import SharedRateBudget

from einvoice.errors import EInvoiceError
from einvoice.http import TransportError
from einvoice.ro.anaf import AnafClient, DailyQuota, Endpoints, Limits
from einvoice.ro.oauth import AnafOAuth, StateSigner, Tokens, jwt_expiry
from einvoice.sim.anaf import AnafSimulator

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/l10n_ro_efactura/oauth/callback"
STATE_LIFETIME = 600  # seconds between "Connect to ANAF" and ANAF's answer
REFRESH_AHEAD = timedelta(days=7)  # tokens are renewed this long before the access token ends
WARN_AHEAD = timedelta(days=30)  # administrators are told this long before the refresh token ends

ADMIN = "account_einvoice.group_einvoice_admin"
CIPHERTEXTS = "account_einvoice.group_einvoice_secret_storage"  # nobody: read and written as superuser
LIMITS = Limits()  # ANAF's published limits, as the library knows them

# ANAF may change its limits ("Limitele pot fi modificate", limiteApeluriAPI.txt) and an older guide of its says 100
# calls a minute: the figure can be set without a new version
CALLS_PER_MINUTE_PARAM = "l10n_ro_efactura.calls_per_minute"


class L10nRoEfacturaConnection(models.Model):
    """Access to ANAF's SPV, authorised once by the holder of the qualified certificate.

    One connection serves every company its holder has SPV rights for; a company with its own holder gets its own.
    Secrets are stored encrypted and never shown again once entered.
    """

    _name = "l10n_ro_efactura.connection"
    _inherit = ["account.einvoice.secret.mixin", "mail.thread", "mail.activity.mixin"]
    _description = "ANAF connection"

    name = fields.Char(required=True)
    environment = fields.Selection(
        [("test", "Test"), ("prod", "Production"), ("sandbox", "Sandbox (simulated ANAF)")],
        required=True,
        default="test",
        tracking=True,
        help="Test validates invoices without legal effect; production files them. Sandbox: a simulated ANAF served "
        "by this Odoo server, to try every step without a certificate (nothing reaches ANAF).",
    )
    base_url = fields.Char(
        string="Other address", groups=ADMIN, help="Serve every ANAF service from this address (a simulator)."
    )
    company_ids = fields.Many2many(
        "res.company",
        string="Companies served",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
        help="The companies whose invoices go through this connection; only their administrators see it.",
    )
    client_id = fields.Char(groups=ADMIN, tracking=True)
    client_secret = fields.Char(
        compute="_compute_client_secret", inverse="_inverse_client_secret", groups=ADMIN, help="Never shown again."
    )
    client_secret_encrypted = fields.Char(groups=CIPHERTEXTS, copy=False)
    access_token_encrypted = fields.Char(groups=CIPHERTEXTS, copy=False)
    refresh_token_encrypted = fields.Char(groups=CIPHERTEXTS, copy=False)
    access_expires_at = fields.Datetime(readonly=True, copy=False)
    refresh_expires_at = fields.Datetime(readonly=True, copy=False)
    status = fields.Selection(
        [("connected", "Connected"), ("ended", "Authorisation ended"), ("not_connected", "Not connected")],
        compute="_compute_status",
        help="Connected while ANAF's tokens are stored and the authorisation has not ended.",
    )
    authorised_by = fields.Char(readonly=True, copy=False, help="Who authorised the application at ANAF.")
    authorised_at = fields.Datetime(readonly=True, copy=False)
    redirect_uri = fields.Char(
        compute="_compute_redirect_uri",
        string="Callback address",
        help="Register exactly this address as the application's callback at ANAF.",
    )

    def _compute_redirect_uri(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        for connection in self:
            connection.redirect_uri = f"{base}{CALLBACK_PATH}"

    @api.depends("access_expires_at", "refresh_expires_at")
    def _compute_status(self):
        now = fields.Datetime.now()
        for connection in self:
            if not connection.sudo().refresh_token_encrypted:
                connection.status = "not_connected"
            elif connection.refresh_expires_at and connection.refresh_expires_at <= now:
                connection.status = "ended"
            else:
                connection.status = "connected"

    @api.constrains("company_ids")
    def _check_company_ids(self):
        """A connection serving no company would serve nobody, and belong to no company's administrators."""
        if any(not connection.company_ids for connection in self):
            raise ValidationError(self.env._("An ANAF connection serves at least one company."))
        # two connections of one company: one of them would be used without anybody knowing which
        for connection in self:
            other = self.sudo().search(
                [("id", "!=", connection.id), ("company_ids", "in", connection.company_ids.ids)], limit=1
            )
            if other:
                shared = other.company_ids & connection.company_ids
                raise ValidationError(
                    self.env._(
                        "%(companies)s is already served by the ANAF connection %(other)s: a company has one ANAF "
                        "connection. Add the company to that one, or remove it from there first.",
                        companies=", ".join(shared.mapped("name")),
                        other=other.name,
                    )
                )

    # -- OAuth ---------------------------------------------------------------------------------------------------
    def _oauth(self):
        self.ensure_one()
        endpoints = self._endpoints()
        if self.environment == "sandbox":  # the simulated ANAF knows its own application
            simulator = self._sandbox()
            client_id, client_secret = simulator.client_id, simulator.client_secret
        else:
            client_id, client_secret = self.sudo().client_id, self._decrypt(self.sudo().client_secret_encrypted)
        return AnafOAuth(
            client_id,
            client_secret,
            self.redirect_uri,
            oauth_url=endpoints.oauth,
            api_root=endpoints.api_root,
            clock=self._clock,
        )

    def _state_signer(self):
        # a key of its own, derived from the database secret: states cannot be forged from outside
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        key = hashlib.sha256(f"l10n_ro_efactura.oauth:{secret}".encode()).digest()
        return StateSigner(key, ttl=STATE_LIFETIME, clock=self._clock)

    def action_connect(self):
        """Send the certificate holder to ANAF; the single-use state names this connection and this user."""
        self.ensure_one()
        state = self._state_signer().issue({"connection": self.id, "user": self.env.uid, "db": self.env.cr.dbname})
        return {"type": "ir.actions.act_url", "url": self._oauth().authorize_url(state), "target": "self"}

    @api.model
    def _oauth_verify_state(self, state):
        verified = self._state_signer().verify(state, consume=self.env["l10n_ro_efactura.oauth.nonce"]._consume)
        payload = verified.payload
        if payload.get("user") != self.env.uid or payload.get("db") != self.env.cr.dbname:
            raise EInvoiceError(self.env._("This authorisation was started by another user; start again."))
        return self.browse(payload["connection"]).exists() or self.browse()

    def _oauth_exchange(self, code):
        self.ensure_one()
        self._store_tokens(self._oauth().exchange_code(code), authorised_by=self.env.user.name)
        self.message_post(body=self.env._("Authorised at ANAF by %(user)s.", user=self.env.user.name))

    def action_test_connection(self):
        """Ask ANAF's test service with the stored token: a clear answer, either way."""
        self.ensure_one()
        access_token = self._decrypt(self.sudo().access_token_encrypted)
        if not access_token:
            raise UserError(self.env._("Not connected yet: use Connect to ANAF first."))
        try:
            self._oauth().smoke_test(access_token)
        except TransportError as error:
            raise UserError(
                self.env._("ANAF did not accept the connection: %(error)s", error=error.translated(self.env.lang))
            ) from error
        return notification(self.env._("ANAF accepts the connection."))

    def action_disconnect(self):
        """Revoke the tokens at ANAF and forget them here; the holder can always withdraw access in the portal."""
        self.ensure_one()
        oauth = self._oauth()
        revoked = True
        for field, hint in (("refresh_token_encrypted", "refresh_token"), ("access_token_encrypted", "access_token")):
            token = self._decrypt(self.sudo()[field])
            if token:
                try:
                    revoked = oauth.revoke(token, token_type_hint=hint) and revoked
                except TransportError:
                    revoked = False
        forgotten = ("access_token_encrypted", "refresh_token_encrypted", "access_expires_at", "refresh_expires_at")
        self.sudo().write(dict.fromkeys((*forgotten, "authorised_by", "authorised_at"), False))
        message = (
            self.env._("Disconnected from ANAF; the tokens were revoked.")
            if revoked
            else self.env._(
                "Disconnected: the tokens are forgotten here, but ANAF did not confirm revoking them; the certificate "
                "holder can withdraw the access in the ANAF portal."
            )
        )
        self.message_post(body=message)
        return True

    def action_fetch_messages(self):
        """What the scheduler does every hour, now: the SPV messages of this connection's companies (invoices
        received, ANAF's answers about ours) are stored and read."""
        self.ensure_one()
        inbox = self.env["account.einvoice.inbox"]
        companies = self.company_ids.filtered(lambda company: company._l10n_ro_efactura_cif())
        stored = [("platform", "=", "ro_efactura"), ("company_id", "in", companies.ids)]
        before = inbox.search_count(stored)
        for company in companies:
            try:
                inbox._l10n_ro_efactura_sync(company, self._anaf_client())
            except EInvoiceError as error:
                raise UserError(
                    self.env._(
                        "ANAF did not list the messages of %(company)s: %(error)s",
                        company=company.display_name,
                        error=error.translated(self.env.lang),
                    )
                ) from None
        inbox._cron_process()
        return notification(
            self.env._("%(count)s new message(s) from ANAF's SPV.", count=inbox.search_count(stored) - before),
            reload=True,
        )

    def action_refresh_tokens(self):
        """Renew ANAF's tokens now (the scheduler does it a week before they end)."""
        self.ensure_one()
        refresh_token = self._decrypt(self.sudo().refresh_token_encrypted)
        if not refresh_token:
            raise UserError(self.env._("Not connected yet: use Connect to ANAF first."))
        try:
            self._store_tokens(self._oauth().refresh(refresh_token))
        except EInvoiceError as error:
            raise UserError(
                self.env._(
                    "ANAF did not renew the tokens: %(error)s If the authorisation has ended, the certificate holder "
                    "connects again with Connect to ANAF.",
                    error=error.translated(self.env.lang),
                )
            ) from None
        self.message_post(body=self.env._("ANAF's tokens renewed by %(user)s.", user=self.env.user.name))
        return notification(self.env._("ANAF renewed the tokens."), reload=True)

    @api.depends("client_secret_encrypted")
    def _compute_client_secret(self):
        for connection in self:
            connection.client_secret = False  # write-only: what is stored is never sent back to a browser

    def _inverse_client_secret(self):
        for connection in self.filtered("client_secret"):
            connection.sudo().client_secret_encrypted = connection._encrypt(connection.client_secret)

    def _store_tokens(self, tokens: Tokens, authorised_by=None):
        self.ensure_one()
        values = {
            "access_token_encrypted": self._encrypt(tokens.access_token),
            "refresh_token_encrypted": self._encrypt(tokens.refresh_token),
            "access_expires_at": _naive(tokens.access_expires_at or jwt_expiry(tokens.access_token)),
            "refresh_expires_at": _naive(tokens.refresh_expires_at or jwt_expiry(tokens.refresh_token)),
        }
        if authorised_by:
            values.update(authorised_by=authorised_by, authorised_at=fields.Datetime.now())
        self.sudo().write(values)

    @api.model
    def _cron_refresh_tokens(self):
        """Renew tokens well before they end; tell the administrators when that fails or when the holder must
        authorise again (the refresh token itself is ending)."""
        now = datetime.now()
        for connection in self.sudo().search([("refresh_token_encrypted", "!=", False)]):
            company = connection.company_ids[:1] or self.env.company
            connection = company._einvoice_in_lang(connection)
            if connection.access_expires_at and connection.access_expires_at <= now + REFRESH_AHEAD:
                try:
                    refreshed = connection._oauth().refresh(connection._decrypt(connection.refresh_token_encrypted))
                    connection._store_tokens(refreshed)
                except EInvoiceError as error:
                    connection._warn_admins(
                        connection.env._(
                            "The ANAF tokens could not be renewed: %(error)s",
                            error=error.translated(connection.env.lang),
                        )
                    )
                    continue
            if connection.refresh_expires_at and connection.refresh_expires_at <= now + WARN_AHEAD:
                connection._warn_admins(
                    connection.env._(
                        "The ANAF authorisation ends on %(date)s: the certificate holder must connect to ANAF again.",
                        date=connection.refresh_expires_at.date(),
                    )
                )

    def _warn_admins(self, message):
        admins = self.env.ref("account_einvoice.group_einvoice_admin").all_user_ids.filtered(
            lambda user: (
                not user.share and user.active and (not self.company_ids or user.company_ids & self.company_ids)
            )
        )
        for admin in admins[:5]:
            self.activity_schedule("mail.mail_activity_data_todo", summary=message[:80], note=message, user_id=admin.id)
        self.message_post(body=message, partner_ids=admins.partner_id.ids)

    def _endpoints(self):
        self.ensure_one()
        if self.environment == "sandbox":
            return Endpoints.at(self._sandbox().url, "test")
        base_url = self.sudo().base_url
        return Endpoints.at(base_url, self.environment) if base_url else Endpoints.for_env(self.environment)

    def _sandbox(self):
        """The simulated ANAF of this server, which gives the companies of this connection SPV rights."""
        simulator = sandbox("anaf", self._sandbox_simulator)
        simulator.cifs.update(filter(None, (company._l10n_ro_efactura_cif() for company in self.company_ids)))
        return simulator

    @staticmethod
    def _sandbox_simulator():
        simulator = AnafSimulator(cifs=(), processing_seconds=5)
        simulator.loopback_callbacks = True  # Odoo on one's own machine calls itself back on http://localhost
        return simulator

    def _anaf_client(self):
        self.ensure_one()
        limits = self._limits()
        usage = self.env["l10n_ro_efactura.api.usage"].sudo()  # counted for every worker, kept across runs
        model = type(self)  # the clock and the wait are looked up at each call: a client may outlive this transaction
        # ANAF counts the calls of a minute over the whole application: every worker and server spends from the
        # connection's one budget, kept in the database
        rate = SharedRateBudget(
            self.env.registry,
            f"anaf:{self.id}",
            [(limits.calls_per_minute, 60)],
            clock=lambda: model._clock(),
            sleep=lambda seconds: model._sleep(seconds),
        )
        return AnafClient(
            self._decrypt(self.sudo().access_token_encrypted),
            endpoints=self._endpoints(),
            quota=DailyQuota(limits, usage=usage, clock=self._clock),
            rate=rate,
            clock=self._clock,
        )

    @api.model
    def _limits(self):
        """ANAF's limits, with the calls a minute of the system parameter ``l10n_ro_efactura.calls_per_minute``
        when it is set to a positive number."""
        value = self.env["ir.config_parameter"].sudo().get_param(CALLS_PER_MINUTE_PARAM)
        if not value:
            return LIMITS
        try:
            per_minute = int(value)
        except ValueError:
            per_minute = 0
        if per_minute < 1:
            _logger.warning("%s is not a positive whole number (%r): ANAF's published figure is used",
                            CALLS_PER_MINUTE_PARAM, value)  # fmt: skip
            return LIMITS
        return dataclasses.replace(LIMITS, calls_per_minute=per_minute)

    @staticmethod
    def _clock():
        return time.time()

    @staticmethod
    def _sleep(seconds):
        time.sleep(seconds)


def _naive(moment):
    return moment.replace(tzinfo=None) if moment else False
