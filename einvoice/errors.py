"""The root of every error the library raises on purpose."""

from .i18n import translate


class EInvoiceError(Exception):
    """A problem the user can read: ``message`` is an :class:`einvoice.i18n.Message` (or plain text)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def translated(self, lang):
        """The message in ``lang`` (``ro``, ``pl_PL``...), English where no translation exists."""
        return translate(self.message, lang)
