"""National e-invoicing for Romania (RO e-Factura) and Poland (KSeF 2.0), independent of Odoo.

The package never imports Odoo: it holds formats, checks, platform clients, crypto, the matching engine,
the simulators and the command line. The Odoo add-ons are thin layers on top of it.
"""

__version__ = "19.0.1.0.0"
