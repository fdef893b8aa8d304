"""Template globals: navigation, labels and locale helpers shared by every page."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tracker.access import can
from tracker.i18n import text_direction
from tracker.types import Role

ROLE_LABELS = {
    Role.VIEWER: _l("viewer"),
    Role.LITIGATOR: _l("litigator"),
    Role.COORDINATOR: _l("coordinator"),
    Role.ADMIN: _l("admin"),
}

# (endpoint, label, action needed). Entries whose endpoint is not registered yet are skipped,
# so areas can land one at a time.
NAV = [
    ("main.index", _l("Home"), None),
    ("cases.index", _l("Cases"), "case.view"),
    ("search.index", _l("Search"), "case.view"),
    ("pleadings.index", _l("Pleadings"), "pleading.view"),
    ("patterns.index", _l("Patterns"), "patterns.view"),
    ("reports.index", _l("Reports"), "report.export"),
    ("admin.index", _l("Admin"), "admin.users"),
]

ADMIN_LINKS = [
    ("admin.users", _l("Users"), "admin.users"),
    ("admin.organisations", _l("Organisations"), "admin.organisations"),
    ("admin.audit", _l("Audit trail"), "admin.audit"),
]

# Links in the user menu (every signed-in user).
USER_LINKS = [
    ("auth.account", _l("My account"), None),
]


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    from tracker.security import needs_totp_setup  # an admin must set up TOTP first

    def _visible(items):
        return [
            (endpoint, label)
            for endpoint, label, action in items
            if endpoint in app.view_functions and (action is None or can(current_user, action))
        ]

    app.jinja_env.globals.update(
        nav_items=lambda: [] if needs_totp_setup(current_user) else _visible(NAV),
        admin_links=lambda: _visible(ADMIN_LINKS),
        user_links=lambda: [] if needs_totp_setup(current_user) else _visible(USER_LINKS),
        role_label=lambda role: ROLE_LABELS.get(role, role),
        current_locale=lambda: str(get_locale() or "en"),
        text_direction=text_direction,
        format_number=format_decimal,
        format_date=format_date,
        format_datetime=format_datetime,
        can=lambda action: can(current_user, action),
        picker_labels=_picker_labels,
    )


def _picker_labels(kind: str, codes: list[str]) -> list[dict[str, str]]:
    """{code, label} of the values a filter's picker shows as chosen (one query, or none)."""
    from tracker.cases.queries import labels_for  # the cases area imports this module

    return labels_for(kind, codes)
