import base64
import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.account_einvoice.tools.notification import notification
from odoo.addons.account_einvoice.tools.sandbox import sandbox
from odoo.addons.account_einvoice.tools.shared_budget import SharedRateBudget

from einvoice.errors import EInvoiceError
from einvoice.http import AuthenticationError, RateLimitedError, TransportError
from einvoice.pl.credentials import self_signed_certificate_for
from einvoice.pl.crypto import (
    CredentialsError,
    certificate_nip,
    certificate_validity,
    load_certificate,
    load_credentials,
)
from einvoice.pl.ksef import LIMITS as PUBLISHED_LIMITS
from einvoice.pl.ksef import (
    Authenticator,
    CertificateLogin,
    Context,
    KsefAuthenticationFailed,
    KsefClient,
    KsefRequestError,
    KsefTokenLogin,
)
from einvoice.pl.model import bare_nip
from einvoice.pl.offline import MODE_OF_OUTAGE, current_outage, outages
from einvoice.pl.qr import Latarnia
from einvoice.sim.ksef import KsefSimulator

from .l10n_pl_ksef_outage import CATEGORIES, STATUSES, naive

_logger = logging.getLogger(__name__)

ADMIN = "account_einvoice.group_einvoice_admin"
CIPHERTEXTS = "account_einvoice.group_einvoice_secret_storage"  # nobody: read and written as superuser
RATE_LIMITS_PARAM = "l10n_pl_ksef.rate_limits"
INCOMING_HISTORY = timedelta(days=30)  # how far back a new connection imports purchase invoices
WARN_AHEAD = timedelta(days=30)  # administrators are told this long before a certificate or token ends
# KSeF's answers to a login that a person can act on
NO_PERMISSIONS, WRONG_TOKEN, UNTRUSTED_CERTIFICATE = 415, 450, 460
CERTIFICATE_NOT_VALID_NOW, NO_SUBJECT_IDENTIFIER = 21115, 21117
# what a login depends on: when one of them changes, the next call signs in afresh
CREDENTIAL_FIELDS = (
    "auth_method",
    "nip",
    "environment",
    "base_url",
    "ksef_token_encrypted",
    "certificate_encrypted",
    "private_key_encrypted",
    "key_password_encrypted",
)
# what a person enters that changes how the connection signs in
SIGN_IN_FIELDS = {
    "auth_method",
    "nip",
    "environment",
    "base_url",
    "ksef_token",
    "certificate_file",
    "private_key_file",
    "key_password",
}
# the Offline certificate's files as entered -> as stored
OFFLINE_SECRETS = {
    "offline_certificate_file": "offline_certificate_encrypted",
    "offline_private_key_file": "offline_private_key_encrypted",
    "offline_key_password": "offline_key_password_encrypted",
}
# seconds a worker waits for KSeF's limits (a full minute's window, as the budgets count it, is a little over 60 s);
# a longer wait is spent by the invoice in the queue
MAX_WAIT = 75
# signed-in KSeF clients of each worker thread (a client is not shared between threads), by connection
_LOGINS = threading.local()


def _window_limits(value):
    """``(per second, per minute, per hour)`` from a JSON list of three positive whole numbers or nulls."""
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"{value!r} is not a list of three limits")
    for calls in value:
        if calls is not None and (not isinstance(calls, int) or isinstance(calls, bool) or calls < 1):
            raise ValueError(f"{calls!r} is not a positive whole number")
    return tuple(value)


def wait(seconds):
    """Wait as KSeF's limits ask, briefly: a worker that slept for an hour would be stopped by the server in the
    middle of a send. A longer wait is refused before the request goes, so the invoice stays in the queue."""
    if seconds > MAX_WAIT:
        raise RateLimitedError(f"KSeF's limits ask to wait {seconds:.0f} s: the invoice waits in the queue.")
    time.sleep(seconds)


class ConnectionNotReady(AuthenticationError):
    """The connection cannot sign in as it stands (a secret missing, a certificate unusable); the message says
    what to do. Sending stops on it like on any refused login."""


class L10nPlKsefConnection(models.Model):
    """Access to KSeF for one company: a KSeF certificate with its private key, or a KSeF token.

    Secrets are stored encrypted and never shown again once entered; the certificate's subject and validity are
    kept in clear so that administrators see what is installed and when it ends.
    """

    _name = "l10n_pl_ksef.connection"
    _inherit = ["account.einvoice.secret.mixin", "mail.thread", "mail.activity.mixin"]
    _description = "KSeF connection"

    name = fields.Char(required=True, default="KSeF")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True, tracking=True
    )
    environment = fields.Selection(
        [("test", "Test"), ("demo", "Demo"), ("prod", "Production"), ("sandbox", "Sandbox (simulated KSeF)")],
        required=True,
        default="test",
        tracking=True,
        help="Test and demo take invoices without legal effect (demo with production data); production issues them. "
        "Sandbox: a simulated KSeF served by this Odoo server, to try every step without credentials (nothing "
        "reaches KSeF).",
    )
    base_url = fields.Char(
        string="Other address", groups=ADMIN, help="Serve every KSeF service from this address (a simulator)."
    )
    nip = fields.Char(
        string="NIP",
        compute="_compute_nip",
        store=True,
        readonly=False,
        tracking=True,
        help="The company's NIP: whose invoices are sent through this connection.",
    )
    auth_method = fields.Selection(
        [("certificate", "KSeF certificate"), ("token", "KSeF token")],
        string="Sign in with",
        required=True,
        default="certificate",
        tracking=True,
        help="A KSeF certificate (authentication type) with its private key, as generated in Aplikacja Podatnika; "
        "or a KSeF token, accepted until the end of 2026.",
    )
    ksef_token = fields.Char(
        string="KSeF token",
        compute="_compute_secrets",
        inverse="_inverse_ksef_token",
        groups=ADMIN,
        help="Never shown again.",
    )
    ksef_token_encrypted = fields.Char(groups=CIPHERTEXTS, copy=False)
    token_valid_until = fields.Date(
        tracking=True, help="The end of the token as Aplikacja Podatnika showed it: administrators are told ahead."
    )
    certificate_file = fields.Binary(
        string="Certificate (.crt)", compute="_compute_secrets", inverse="_inverse_certificate_file", groups=ADMIN
    )
    certificate_encrypted = fields.Text(groups=CIPHERTEXTS, copy=False)
    private_key_file = fields.Binary(
        string="Private key (.key)",
        compute="_compute_secrets",
        inverse="_inverse_private_key_file",
        groups=ADMIN,
        help="Never shown again.",
    )
    private_key_encrypted = fields.Text(groups=CIPHERTEXTS, copy=False)
    key_password = fields.Char(
        string="Private key password",
        compute="_compute_secrets",
        inverse="_inverse_key_password",
        groups=ADMIN,
        help="Never shown again.",
    )
    key_password_encrypted = fields.Char(groups=CIPHERTEXTS, copy=False)
    offline_certificate_file = fields.Binary(
        string="Offline certificate (.crt)",
        compute="_compute_secrets",
        inverse="_inverse_offline_files",
        groups=ADMIN,
        help="A KSeF certificate of the Offline type, as generated in Aplikacja Podatnika: it signs the second QR "
        "code (CERTYFIKAT) printed on invoices issued offline.",
    )
    offline_certificate_encrypted = fields.Text(groups=CIPHERTEXTS, copy=False)
    offline_private_key_file = fields.Binary(
        string="Offline private key (.key)",
        compute="_compute_secrets",
        inverse="_inverse_offline_files",
        groups=ADMIN,
        help="Never shown again.",
    )
    offline_private_key_encrypted = fields.Text(groups=CIPHERTEXTS, copy=False)
    offline_key_password = fields.Char(
        string="Offline key password",
        compute="_compute_secrets",
        inverse="_inverse_offline_files",
        groups=ADMIN,
        help="Never shown again.",
    )
    offline_key_password_encrypted = fields.Char(groups=CIPHERTEXTS, copy=False)
    offline_certificate_valid_to = fields.Datetime(readonly=True, copy=False)
    certificate_subject = fields.Char(readonly=True, copy=False)
    certificate_nip = fields.Char(string="NIP of the certificate", readonly=True, copy=False)
    certificate_valid_from = fields.Datetime(readonly=True, copy=False)
    certificate_valid_to = fields.Datetime(readonly=True, copy=False)
    secrets_stored = fields.Char(
        compute="_compute_secrets_stored", help="Which secrets are stored (they are never shown)."
    )
    verified_at = fields.Datetime(
        string="Last verified",
        readonly=True,
        copy=False,
        help="When Verify connection last signed in with what is stored now; a change of how it signs in clears it.",
    )
    offline24 = fields.Boolean(
        string="Issue offline (offline24)",
        tracking=True,
        help="Posted invoices are issued at once, with their QR code marked OFFLINE, and sent to KSeF by the next "
        "working day: invoicing never waits for KSeF.",
    )
    incoming_from = fields.Datetime(
        string="Purchase invoices from",
        required=True,
        default=lambda self: fields.Datetime.now() - INCOMING_HISTORY,
        copy=False,
        tracking=True,
        help="Purchase invoices KSeF stored from this moment on are imported. Each sync moves it on to KSeF's "
        "high-water mark, before which nothing new can appear; set it earlier to import older invoices again.",
    )

    sync_error = fields.Char(
        string="Purchase invoices not fetched",
        readonly=True,
        copy=False,
        help="Why the last sync of purchase invoices failed; empty once a sync succeeds.",
    )

    incoming_third_from = fields.Datetime(
        string="Third-party invoices from",
        required=True,
        default=lambda self: fields.Datetime.now() - INCOMING_HISTORY,
        copy=False,
        tracking=True,
        help="Invoices that name the company as a third party (Podmiot3: payer, recipient, additional buyer...) "
        "and that KSeF stored from this moment on are imported, to be reviewed. Each sync moves it on.",
    )

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

    _company_uniq = models.Constraint("UNIQUE(company_id)", "A company has one KSeF connection.")

    @api.depends("company_id")
    def _compute_nip(self):
        for connection in self:
            connection.nip = bare_nip(connection.company_id.vat) or connection.nip

    def write(self, vals):
        # a successful verification says nothing of credentials entered after it
        if set(vals) & SIGN_IN_FIELDS and "verified_at" not in vals:
            vals = {**vals, "verified_at": False}
        return super().write(vals)

    # -- secrets: write-only ---------------------------------------------------------------------------------------
    def _compute_secrets(self):
        for connection in self:  # what is stored is never sent back to a browser
            connection.ksef_token = connection.certificate_file = False
            connection.private_key_file = connection.key_password = False
            connection.offline_certificate_file = connection.offline_private_key_file = False
            connection.offline_key_password = False

    @api.depends(
        "ksef_token_encrypted",
        "private_key_encrypted",
        "key_password_encrypted",
        "offline_private_key_encrypted",
        "offline_key_password_encrypted",
    )
    def _compute_secrets_stored(self):
        labels = {
            "ksef_token_encrypted": self.env._("KSeF token"),
            "private_key_encrypted": self.env._("private key"),
            "key_password_encrypted": self.env._("key password"),
            "offline_private_key_encrypted": self.env._("Offline private key"),
            "offline_key_password_encrypted": self.env._("Offline key password"),
        }
        for connection in self:
            stored = [label for field, label in labels.items() if connection.sudo()[field]]
            connection.secrets_stored = ", ".join(stored) or self.env._("none")

    def _inverse_ksef_token(self):
        for connection in self.filtered("ksef_token"):
            connection.sudo().ksef_token_encrypted = connection._encrypt(connection.ksef_token.strip())

    def _inverse_private_key_file(self):
        for connection in self.filtered("private_key_file"):
            connection.sudo().private_key_encrypted = connection._encrypt(connection.private_key_file)

    def _inverse_key_password(self):
        for connection in self.filtered("key_password"):
            connection.sudo().key_password_encrypted = connection._encrypt(connection.key_password)

    def _inverse_certificate_file(self):
        for connection in self.filtered("certificate_file"):
            certificate = connection._load_certificate(base64.b64decode(connection.certificate_file))
            not_before, not_after = certificate_validity(certificate)
            connection.sudo().write(
                {
                    "certificate_encrypted": connection._encrypt(connection.certificate_file),
                    "certificate_subject": certificate.subject.rfc4514_string(),
                    "certificate_nip": certificate_nip(certificate),
                    "certificate_valid_from": not_before.replace(tzinfo=None),
                    "certificate_valid_to": not_after.replace(tzinfo=None),
                }
            )

    def _inverse_offline_files(self):
        for connection in self:
            if connection.offline_certificate_file:
                certificate = connection._load_certificate(base64.b64decode(connection.offline_certificate_file))
                connection.offline_certificate_valid_to = certificate_validity(certificate)[1].replace(tzinfo=None)
            for field, stored in OFFLINE_SECRETS.items():
                if connection[field]:
                    connection.sudo()[stored] = connection._encrypt(connection[field])

    def _ksef_offline_credentials(self):
        """The Offline certificate and its key, which sign KOD II; None when none is stored. Raises
        :class:`CredentialsError` when they cannot be used (a wrong password, an expired certificate)."""
        return self._ksef_stored_credentials("offline_")

    def _ksef_stored_credentials(self, prefix=""):
        """The certificate, private key and password stored under ``prefix`` (the KSeF certificate's, or the
        Offline one's with ``offline_``), loaded; None when the certificate or key is missing. Raises
        :class:`CredentialsError` when they cannot be used."""
        self.ensure_one()
        connection = self.sudo()
        certificate = connection._decrypted_file(f"{prefix}certificate_encrypted")
        private_key = connection._decrypted_file(f"{prefix}private_key_encrypted")
        if not certificate or not private_key:
            return None
        password = connection._decrypt(connection[f"{prefix}key_password_encrypted"]) or None
        return load_credentials(certificate, private_key, password, now=self._ksef_now())

    def _decrypted_file(self, field):
        stored = self._decrypt(self.sudo()[field])
        return base64.b64decode(stored) if stored else None

    # -- talking to KSeF -------------------------------------------------------------------------------------------
    def _ksef_client(self):
        self.ensure_one()
        connection = self.sudo()
        model = type(self)  # the clock is looked up at each call: a client may outlive this transaction
        registry = self.env.registry

        def budget(family, windows):
            # KSeF counts the calls per context and IP address ("kontekst i adres IP", limity/limity-api.md): every
            # worker and server of this database spends from one budget per context and endpoint family
            return SharedRateBudget(
                registry,
                f"ksef:{connection.environment}:{connection.nip}:{family}",
                windows,
                clock=lambda: model._ksef_now().timestamp(),  # the budgets count time on the clock they wait on
                sleep=lambda seconds: model._ksef_sleep(seconds),
            )

        return KsefClient(
            self._ksef_base_url(),
            environment=self._ksef_environment(),
            limits=self._ksef_limits(),
            now=lambda: model._ksef_now(),
            sleep=lambda seconds: model._ksef_sleep(seconds),
            budget=budget,
        )

    @api.model
    def _ksef_limits(self):
        """KSeF's published limits per endpoint family, with the system parameter ``l10n_pl_ksef.rate_limits``
        laid over them: a JSON object such as ``{"online_send": [10, 30, 180]}`` (per second, minute and hour;
        null leaves a window unlimited). KSeF's limits are dynamic: raised on request, ten times higher on the
        TEST environment, set at will there (``/testdata/rate-limits``)."""
        value = self.env["ir.config_parameter"].sudo().get_param(RATE_LIMITS_PARAM)
        if not value:
            return PUBLISHED_LIMITS
        try:
            override = json.loads(value)
            limits = {**PUBLISHED_LIMITS, **{family: _window_limits(override[family]) for family in override}}
        except (ValueError, TypeError, KeyError) as error:
            _logger.warning("%s is not usable (%s): KSeF's published limits are used", RATE_LIMITS_PARAM, error)
            return PUBLISHED_LIMITS
        unknown = set(limits) - set(PUBLISHED_LIMITS)
        if unknown:
            _logger.warning("%s names unknown families: %s", RATE_LIMITS_PARAM, ", ".join(sorted(unknown)))
        return limits

    def _ksef_login(self):
        """How this connection signs in; :class:`ConnectionNotReady` says what is missing or unusable."""
        self.ensure_one()
        connection = self.sudo()
        if connection.auth_method == "token":
            token = connection._decrypt(connection.ksef_token_encrypted)
            if not token:
                raise ConnectionNotReady(self.env._("Enter the KSeF token of the connection first."))
            return KsefTokenLogin(token)
        try:
            credentials = self._ksef_stored_credentials()
        except CredentialsError as error:
            raise ConnectionNotReady(
                self.env._("The certificate cannot be used: %(reason)s", reason=error.translated(self.env.lang))
            ) from None
        if not credentials:
            raise ConnectionNotReady(self.env._("Upload the KSeF certificate and its private key first."))
        return CertificateLogin(credentials)

    def _ksef_authenticator(self, client):
        self.ensure_one()
        if not self.nip:
            raise ConnectionNotReady(self.env._("Enter the company's NIP on the KSeF connection first."))
        return Authenticator(client, Context("Nip", self.nip), self._ksef_login())

    def _ksef_signed_in(self):
        """``(client, authenticator)`` kept for this connection by the worker thread: one login serves every
        invoice of a scheduled run and the runs after it (the authenticator refreshes or signs in again when its
        tokens end), and the tokens live in memory only. Other credentials, another login."""
        self.ensure_one()
        connection = self.sudo()
        logins = _LOGINS.__dict__.setdefault("by_connection", {})
        connection_key = (self.env.cr.dbname, self.id)
        credentials = hash(tuple(connection[name] for name in CREDENTIAL_FIELDS))
        kept = logins.get(connection_key)
        if kept is None or kept[0] != credentials:
            client = self._ksef_client()
            kept = logins[connection_key] = (credentials, client, self._ksef_authenticator(client))
        return kept[1:]

    def _ksef_base_url(self):
        """Where KSeF is served when it is not at the environment's own address: the sandbox, or the other address."""
        if self.environment == "sandbox":
            return self._sandbox().url
        return self.sudo().base_url or None

    def _ksef_environment(self):
        """The KSeF environment whose rules apply: the sandbox behaves as the test environment."""
        return "test" if self.environment == "sandbox" else self.environment

    def _sandbox(self):
        return sandbox("ksef", KsefSimulator)

    def action_create_test_certificate(self):
        """A self-signed certificate for the company's NIP, to sign in to KSeF's test environment (or the sandbox),
        which accepts them; stored encrypted like an uploaded one. A token can then be created from this connection."""
        self.ensure_one()
        if self.environment not in ("test", "sandbox"):
            raise UserError(self.env._("Only KSeF's test environment and the sandbox accept self-signed certificates."))
        if not self.nip:
            raise UserError(self.env._("Enter the company's NIP first: the certificate is made for it."))
        certificate, private_key = self_signed_certificate_for(self.nip, self.company_id.name, self._ksef_now())
        self.write(
            {
                "auth_method": "certificate",
                "certificate_file": base64.b64encode(certificate),
                "private_key_file": base64.b64encode(private_key),
            }
        )
        message = self.env._(
            "A test certificate for NIP %(nip)s was made and stored; KSeF's test environment signs in with it.",
            nip=self.nip,
        )
        self.message_post(body=message)
        return notification(message, kind="success", reload=True)  # the form shows the new certificate

    def action_verify(self):
        """Sign in to KSeF once with what is stored: a clear answer, either way."""
        self.ensure_one()
        client, auth = self._ksef_session()
        self.verified_at = fields.Datetime.now()
        message = self.env._(
            "KSeF accepts the connection for NIP %(nip)s. %(permissions)s",
            nip=self.nip,
            permissions=self._ksef_permissions_report(client, auth),
        )
        self.message_post(body=message)
        return notification(message, kind="success" if not self._ksef_lacks() else "warning", reload=True)

    def action_import_purchase_invoices(self):
        """What the scheduler does every 15 minutes, now: the purchase invoices KSeF stored since the last sync."""
        self.ensure_one()
        inbox = self.env["account.einvoice.inbox"]
        try:
            received = inbox._l10n_pl_ksef_sync(self)
        except EInvoiceError as error:
            raise UserError(self._ksef_failure(error)) from None
        inbox._cron_process()
        return notification(self.env._("%(count)s purchase invoice(s) received from KSeF.", count=len(received)))

    def _ksef_moved(self, mark, next_from):
        """A high-water mark moves on, without a line in the chatter: it moves at every run."""
        self.with_context(mail_notrack=True).write({mark: next_from})

    def _ksef_synced(self, stored):
        """A sync went through: the chatter says what was received, and that the sync works again after it
        failed."""
        was_failing = self.sync_error
        self.with_context(mail_notrack=True).write({"sync_error": False})
        if was_failing:
            self._message_log(body=self.env._("Purchase invoices are fetched from KSeF again."))
        if stored:
            self._message_log(body=self.env._("%(count)s purchase invoice(s) received from KSeF.", count=len(stored)))

    def _ksef_sync_failed(self, error):
        """A sync failed: said once in the chatter, not again at every run while it fails the same way."""
        reason = error.translated(self.env.lang)
        if reason != self.sync_error:
            self.sync_error = reason
            self.message_post(
                body=self.env._("Purchase invoices could not be fetched from KSeF: %(reason)s", reason=reason)
            )

    def _ksef_failure(self, error):
        """Why signing in failed, in words an administrator can act on."""
        lang = self.env.lang
        if isinstance(error, ConnectionNotReady):
            return error.translated(lang)
        if isinstance(error, KsefAuthenticationFailed):
            if error.code == WRONG_TOKEN:
                return self.env._(
                    "KSeF does not accept the token: it is wrong, inactive or revoked. Generate a new token in "
                    "Aplikacja Podatnika and enter it again."
                )
            if error.code == NO_PERMISSIONS:
                return self._ksef_no_permissions()
            if error.code == UNTRUSTED_CERTIFICATE:
                return self.env._("KSeF does not trust the certificate: it is invalid, revoked or suspended.")
        if isinstance(error, KsefRequestError):
            if CERTIFICATE_NOT_VALID_NOW in error.codes:
                return self.env._("KSeF refuses the certificate: it is not valid today (not valid yet, or expired).")
            if NO_SUBJECT_IDENTIFIER in error.codes:
                return self.env._(
                    "The certificate names no NIP or PESEL KSeF can sign in with: use a KSeF certificate of the "
                    "authentication type."
                )
        if isinstance(error, TransportError):
            return self.env._("KSeF could not be asked: %(reason)s", reason=error.translated(lang))
        return self.env._("KSeF refused the login: %(reason)s", reason=error.translated(lang))

    def _ksef_no_permissions(self):
        if self.auth_method == "token":
            return self.env._(
                "KSeF does not let this token act for NIP %(nip)s: it was generated for another company, or without "
                "the right to issue invoices.",
                nip=self.nip,
            )
        if self.certificate_nip and self.certificate_nip != self.nip:
            return self.env._(
                "The certificate belongs to NIP %(certificate)s, not to the company's NIP %(nip)s, and KSeF found no "
                "permission for it to act for %(nip)s. Upload the company's certificate, or grant the permission in "
                "Aplikacja Podatnika.",
                certificate=self.certificate_nip,
                nip=self.nip,
            )
        return self.env._(
            "The certificate has no permissions in KSeF for NIP %(nip)s: grant at least the right to issue invoices "
            "in Aplikacja Podatnika.",
            nip=self.nip,
        )

    # -- expiry ----------------------------------------------------------------------------------------------------
    @api.model
    def _cron_warn_expiry(self):
        """Administrators are told a month ahead that a certificate or token ends, while there is time to renew;
        certificates Odoo enrolled are renewed first."""
        self._cron_renew_certificates()
        horizon = fields.Datetime.now() + WARN_AHEAD
        ending = self.sudo().search(
            [
                "|",
                "&",
                ("auth_method", "=", "certificate"),
                ("certificate_valid_to", "<=", horizon),
                "&",
                ("auth_method", "=", "token"),
                ("token_valid_until", "<=", horizon.date()),
            ]
        )
        for connection in ending:
            connection = connection.company_id._einvoice_in_lang(connection)
            if connection.auth_method == "certificate":
                what, ends = connection.env._("KSeF certificate"), connection.certificate_valid_to.date()
            else:
                what, ends = connection.env._("KSeF token"), connection.token_valid_until
            connection._warn_admins(
                connection.env._(
                    "The %(what)s of %(company)s ends on %(date)s: renew it in Aplikacja Podatnika and enter it on the "
                    "KSeF connection, or invoices cannot be sent.",
                    what=what,
                    company=connection.company_id.name,
                    date=ends,
                )
            )
        for connection in self.sudo().search([("offline_certificate_valid_to", "<=", horizon)]):
            connection = connection.company_id._einvoice_in_lang(connection)
            connection._warn_admins(
                connection.env._(
                    "The KSeF Offline certificate of %(company)s ends on %(date)s: renew it in Aplikacja Podatnika and "
                    "upload it on the KSeF connection, or invoices issued offline are printed without their second QR "
                    "code.",
                    company=connection.company_id.name,
                    date=connection.offline_certificate_valid_to.date(),
                )
            )

    def _warn_admins(self, message):
        self.ensure_one()
        summary = self.env._("KSeF connection needs attention")
        if self.activity_ids.filtered(lambda activity: activity.summary == summary):
            return  # one open reminder is enough; the chatter keeps every warning
        admins = self.env.ref(ADMIN).all_user_ids.filtered(
            lambda user: not user.share and user.active and self.company_id in user.company_ids
        )
        for admin in admins:
            self.activity_schedule("mail.mail_activity_data_todo", summary=summary, note=message, user_id=admin.id)
        self.message_post(body=message)

    @staticmethod
    def _ksef_now():
        return datetime.now(timezone.utc)

    @staticmethod
    def _ksef_sleep(seconds):
        wait(seconds)

    def _load_certificate(self, data):
        try:
            return load_certificate(data)
        except CredentialsError as error:
            raise UserError(error.translated(self.env.lang)) from None

    # -- availability (Latarnia) ---------------------------------------------------------------------------------
    def _ksef_latarnia(self):
        """KSeF's availability service for this connection's environment (under the other address, when set)."""
        self.ensure_one()
        base_url = self._ksef_base_url()
        return Latarnia(self._ksef_environment(), base_url=f"{base_url.rstrip('/')}/latarnia" if base_url else None)

    @api.model
    def _cron_read_availability(self):
        for connection in self.sudo().search([("company_id", "!=", False)]):
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
        news = False  # an event announced or changed since the last reading
        for outage in announced:
            values = {
                "category": outage.category.lower(),
                "title": outage.title,
                "text": outage.text,
                "start": naive(outage.start),
                "end": naive(outage.end),
            }
            known = stored.get(outage.event_id)
            if known and any(known[name] != (value or False) for name, value in values.items()):
                known.write(values)
                news = True
            elif not known and outage.category.lower() in dict(CATEGORIES):
                stored[outage.event_id] = self.env["l10n_pl_ksef.outage"].create(
                    {**values, "connection_id": self.id, "event_id": outage.event_id}
                )
                news = True
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
            self.message_post(body=self._ksef_availability_text())
            if key == "available":
                self.env.ref("account_einvoice.ir_cron_einvoice_send")._trigger()
        if news or key != was:
            self._ksef_recompute_deadlines()

    def _ksef_recompute_deadlines(self):
        """KSeF announced something: the deadlines of the company's invoices waiting offline are counted again."""
        moves = self.env["account.move"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("l10n_pl_ksef_offline", "=", True),
                ("einvoice_state", "not in", ("accepted", "processing", "sending")),
            ]
        )
        moves._l10n_pl_ksef_recompute_deadlines()

    def _ksef_outage_mode(self):
        """The offline mode invoices issued now take (offline during maintenance, emergency during a failure), or
        None when KSeF is available or totally down (invoices are then issued outside KSeF)."""
        return MODE_OF_OUTAGE.get(self.ksef_status.upper())

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
