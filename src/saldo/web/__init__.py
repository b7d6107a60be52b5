"""The web application accountants open every morning: server-rendered pages at ``/``
(sign-in, company switcher, dashboard, chart, journal, keyboard-first entry, approvals,
periods, reports, users), in Georgian and English (docs/web.md)."""
