"""The api area (blueprint mounted at /api/v1): the JSON API and its token pages.

The JSON endpoints authenticate with personal API tokens (Authorization: Bearer ...), so the
blueprint is exempt from CSRF; browser sessions may only read (see tracker/api/auth.py). The
token management pages are a nested blueprint (api.tokens) with ordinary session login and
CSRF protection.
"""

from flask import Blueprint

from tracker.extensions import csrf

bp = Blueprint("api", __name__)
tokens_bp = Blueprint("tokens", __name__)
csrf.exempt(bp)  # only this blueprint: the nested token pages keep their CSRF checks

from tracker.api import auth, routes, tokens  # noqa: E402,F401

bp.register_blueprint(tokens_bp, url_prefix="/tokens")
