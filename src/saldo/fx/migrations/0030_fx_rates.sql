-- Official exchange rates of the National Bank of Georgia (docs/currencies.md,
-- docs/decisions/0020-nbg-rates-as-reference-data.md).
--
-- Reference data shared by every company, not a company's books: no company_id and no
-- row-level security. A rate is GEL per ONE unit of the currency (NBG's `rate` divided by
-- its `quantity`), keyed by the day it takes effect (NBG's `validFromDate`, not `date`:
-- georgia.md §7). The rate in effect on a day is the one with the latest valid_from on or
-- before it, so weekends and holidays keep the last rate fixed.

CREATE TABLE fx_rates (
    currency    char(3) NOT NULL,
    valid_from  date NOT NULL,
    rate        numeric(24, 10) NOT NULL CHECK (rate > 0 AND rate <= 10000),
    -- 'nbg' (fetched) or 'manual' (entered by a superuser).
    source      text NOT NULL CHECK (source IN ('nbg', 'manual')),
    -- NBG's quantity and rate as published (NULL for a manual rate).
    quantity    integer,
    published   numeric(24, 10),
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (currency, valid_from)
);

-- Every change of a stored rate: the rate it replaced, who and when (an auditor asks
-- which rate a transaction could have seen).
CREATE TABLE fx_rate_changes (
    id          bigserial PRIMARY KEY,
    currency    char(3) NOT NULL,
    valid_from  date NOT NULL,
    old_rate    numeric(24, 10),
    new_rate    numeric(24, 10) NOT NULL,
    source      text NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fx_rate_changes_by_rate ON fx_rate_changes (currency, valid_from);
