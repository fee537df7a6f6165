"""Code lists of CIUS-RO (ANAF) and the EN 16931 lists its rules use."""

CIUS_RO_ID = "urn:cen.eu:en16931:2017#compliant#urn:efactura.mfinante.ro:CIUS-RO:1.0.1"

# ISO 3166-2:RO: the 41 counties and Bucharest (RO-B)
COUNTY_CODES = frozenset(
    {
        "RO-AB", "RO-AG", "RO-AR", "RO-B", "RO-BC", "RO-BH", "RO-BN", "RO-BR", "RO-BT", "RO-BV", "RO-BZ", "RO-CJ",
        "RO-CL", "RO-CS", "RO-CT", "RO-CV", "RO-DB", "RO-DJ", "RO-GJ", "RO-GL", "RO-GR", "RO-HD", "RO-HR", "RO-IF",
        "RO-IL", "RO-IS", "RO-MH", "RO-MM", "RO-MS", "RO-NT", "RO-OT", "RO-PH", "RO-SB", "RO-SJ", "RO-SM", "RO-SV",
        "RO-TL", "RO-TM", "RO-TR", "RO-VL", "RO-VN", "RO-VS",
    }
)  # fmt: skip
BUCHAREST = "RO-B"
SECTOR_CODES = frozenset(f"SECTOR{n}" for n in range(1, 7))
