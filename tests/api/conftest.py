"""API test helpers: tokens for users, and a clean rate-limit store per test."""

from __future__ import annotations

import pytest

from tracker.auth.models import TokenScope


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    from tracker.extensions import limiter

    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture()
def token_for(db):
    """token_for(user, scope="read"|"read-write") -> the Authorization header dict."""
    from tracker.api.auth import create_token

    def _make(user, scope: str = "read", **kw):
        _row, secret = create_token(user=user, name="test", scope=TokenScope(scope), **kw)
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return _make
