import re
from dataclasses import replace

from odoo import models

from einvoice.ro.codes import BUCHAREST, SECTOR_CODES

SECTOR_NUMBER = re.compile(r"sector\s*([1-6])\b", re.IGNORECASE)


class AccountMove(models.Model):
    _inherit = "account.move"

    def _einvoice_address(self, partner):
        """In Bucharest ANAF wants the city written SECTOR1..SECTOR6 (BR-RO-100): "Sector 3", "sectorul 3",
        "București, Sector 3" all say which one; a city naming no sector stays as it is and the checks report it."""
        address = super()._einvoice_address(partner)
        if address.subdivision == BUCHAREST and address.city not in SECTOR_CODES:
            found = SECTOR_NUMBER.search(address.city or "") or SECTOR_NUMBER.search(partner.street2 or "")
            if found:
                address = replace(address, city=f"SECTOR{found.group(1)}")
        return address
