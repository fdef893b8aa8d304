"""The patterns area (blueprint mounted at /patterns): the coordinators' view."""

from flask import Blueprint

bp = Blueprint("patterns", __name__)


@bp.record_once
def _setup(state) -> None:
    from tracker.patterns.services import install_session_hooks
    from tracker.patterns.templating import init_app

    install_session_hooks()
    init_app(state.app)


from tracker.patterns import routes  # noqa: E402,F401
