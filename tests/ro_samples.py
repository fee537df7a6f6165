"""ANAF's example invoices the RO tests send (from the official artefacts; a test skips when they are missing)."""

from .artefacts import ro_sample


def ok_invoice():
    """CIUS-RO 1.0.1, seller RO1111111111118: ANAF says ok."""
    return ro_sample("anaf-ubl-examples/ubl_b2g_example0.xml")


def old_invoice():
    """ANAF's 2022 example, still CIUS-RO 1.0.0: ANAF says nok (BR-RO-001)."""
    return ro_sample("anaf-ubl-examples/eInvoice_ex.xml")


def credit_note():
    return ro_sample("anaf-ubl-examples/creditNote_ex.xml")


def cii_invoice():
    return ro_sample("anaf-cii-examples/CII_example0.xml")
