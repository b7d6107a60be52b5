"""The general ledger's rules, by concept: :mod:`.accounts` (the chart of accounts),
:mod:`.journal` (lines, content, the journal transaction), :mod:`.calendar` (fiscal years
and months) and :mod:`.errors`. No I/O here.

The package re-exports every public name of its modules, so the ledger's own modules can
keep writing ``from saldo.ledger import domain as d``; other contexts never import it
(import-linter: they use ``saldo.ledger.service`` and ``saldo.ledger.queries``).
"""

from saldo.kernel.events import Actor as Actor  # re-exported: the ledger's actor
from saldo.ledger.domain.accounts import *  # noqa: F403
from saldo.ledger.domain.calendar import *  # noqa: F403
from saldo.ledger.domain.errors import *  # noqa: F403
from saldo.ledger.domain.journal import *  # noqa: F403
