"""Locale selection: the user's preference, else the browser's, among the network's languages."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user

RTL_LOCALES = frozenset({"ar"})


def select_locale() -> str | None:
    locales = current_app.config["LOCALES"]
    if not has_request_context():  # CLI commands and services run outside requests
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in locales:
        return current_user.locale
    return (
        request.accept_languages.best_match(locales) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def text_direction(locale: str) -> str:
    return "rtl" if locale in RTL_LOCALES else "ltr"
