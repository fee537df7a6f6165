from . import l10n_pl_ksef_credentials_wizard
