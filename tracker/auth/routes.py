"""Sign in and out, one's own account (password, two-factor, sessions), invitation links."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from tracker.auth import bp, throttle
from tracker.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    LoginForm,
    LogoutForm,
    SetPasswordForm,
    TotpConfirmForm,
    TotpDisableForm,
)
from tracker.auth.services import (
    AccountError,
    WeakPassword,
    WrongCode,
    WrongPassword,
    active_sessions,
    change_password,
    confirm_totp,
    disable_totp,
    end_all_sessions,
    end_session,
    end_user_session,
    get_user_by_email,
    is_current_session,
    normalise_email,
    pending_totp_secret,
    set_password_from_invitation,
    start_session,
    user_for_invitation,
    verify_password,
)
from tracker.auth.totp import provisioning_uri, qr_svg_data_uri, verify_code
from tracker.extensions import db, limiter
from tracker.security import SESSION_TOKEN_KEY, safe_next


def _login_failed_message() -> str:
    # One answer for unknown e-mail, wrong password, wrong or missing code, disabled account.
    return _("The e-mail or password is not right.")


def _throttled_response(_limit=None):
    """The same 429 page whoever the e-mail belongs to (or nobody)."""
    form = LoginForm()
    form.password.data = None
    form.otp.data = None
    flash(_("Too many sign-in attempts. Wait a few minutes and try again."), "error")
    response = render_template("auth/login.html", form=form), 429
    return response


def _user_key() -> str:
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else "anonymous"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    throttle.LOGIN_PER_ADDRESS,
    methods=["POST"],
    on_breach=lambda limit: _make_response(_throttled_response(limit)),
)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        if current_user.is_authenticated:
            return redirect(form.next.data)
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        if throttle.account_blocked(email):
            return _throttled_response()
        user = get_user_by_email(email)
        ok = verify_password(user, form.password.data)
        if ok and user is not None and user.is_active:
            if user.totp_enabled_at is not None:
                ok = verify_code(user.id, user.totp_secret, form.otp.data)
            if ok:
                throttle.clear_failures(email)
                session.clear()  # a new session at login (no fixation)
                token = start_session(user)
                db.session.commit()
                session[SESSION_TOKEN_KEY] = token
                login_user(user)
                return redirect(safe_next(form.next.data))
        throttle.record_failure(email)
        db.session.commit()  # keep any rehash; nothing else was written
        flash(_login_failed_message(), "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _make_response(rv):
    from flask import make_response

    return make_response(rv)


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        end_session(session.get(SESSION_TOKEN_KEY))
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


# --- Invitation links (public) ---------------------------------------------------------------


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(throttle.LOGIN_PER_ADDRESS, methods=["POST"])
def set_password(token: str):
    user = user_for_invitation(token)
    if user is None:
        return render_template("account/link_invalid.html"), 404
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            set_password_from_invitation(user=user, password=form.new_password.data)
        except WeakPassword as exc:
            form.new_password.errors.append(str(exc))
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_("Your password is set. You can sign in now."), "success")
            return redirect(url_for("auth.login"))
    if request.method == "POST":
        status = 400
    return render_template("account/set_password.html", form=form, user=user), status


# --- One's own account -----------------------------------------------------------------------


@bp.get("/account")
def account():
    return render_template("account/index.html", user=current_user)


@bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@limiter.limit(throttle.ACCOUNT_CHECKS_PER_USER, methods=["POST"], key_func=_user_key)
def change_password_view():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            changed = change_password(
                user=current_user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
                keep_token=session.get(SESSION_TOKEN_KEY),
            )
        except WrongPassword as exc:
            form.current_password.errors.append(str(exc))
        except WeakPassword as exc:
            form.new_password.errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                _(
                    "Your password is changed. Sessions ended elsewhere: %(n)d. "
                    "API tokens revoked: %(t)d.",
                    n=changed.sessions_ended,
                    t=changed.tokens_revoked,
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    if request.method == "POST":
        status = 400
    return render_template("account/password.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@limiter.limit(throttle.ACCOUNT_CHECKS_PER_USER, methods=["POST"], key_func=_user_key)
def totp_setup():
    if current_user.totp_enabled_at is not None:
        return redirect(url_for("auth.account"))
    form = TotpConfirmForm()
    secret = pending_totp_secret(current_user)
    db.session.commit()  # the pending secret survives to the next request
    status = 200
    if form.validate_on_submit():
        try:
            confirm_totp(user=current_user, code=form.code.data)
        except AccountError as exc:
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Two-factor authentication is on."), "success")
            return redirect(url_for("auth.account"))
    if request.method == "POST":
        status = 400
    uri = provisioning_uri(secret, current_user.email)
    return render_template(
        "account/totp_setup.html",
        form=form,
        secret=secret,
        uri=uri,
        qr=qr_svg_data_uri(uri),
    ), status


@bp.route("/account/two-factor/disable", methods=["GET", "POST"])
@limiter.limit(throttle.ACCOUNT_CHECKS_PER_USER, methods=["POST"], key_func=_user_key)
def totp_disable():
    if current_user.totp_enabled_at is None:
        return redirect(url_for("auth.account"))
    form = TotpDisableForm()
    status = 200
    if form.validate_on_submit():
        try:
            disable_totp(user=current_user, password=form.password.data, code=form.code.data)
        except WrongPassword as exc:
            form.password.errors.append(str(exc))
        except WrongCode as exc:
            form.code.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Two-factor authentication is off."), "success")
            return redirect(url_for("auth.account"))
    if request.method == "POST":
        status = 400
    return render_template("account/totp_disable.html", form=form), status


@bp.get("/account/sessions")
def sessions():
    token = session.get(SESSION_TOKEN_KEY)
    rows = active_sessions(current_user)
    return render_template(
        "account/sessions.html",
        rows=rows,
        is_current=lambda row: is_current_session(row, token),
        form=ConfirmForm(),
    )


@bp.post("/account/sessions/<int:session_id>/end")
def end_one_session(session_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    row_is_current = any(
        row.id == session_id and is_current_session(row, session.get(SESSION_TOKEN_KEY))
        for row in active_sessions(current_user)
    )
    if not end_user_session(user=current_user, session_id=session_id):
        abort(404)
    db.session.commit()
    if row_is_current:
        logout_user()
        session.clear()
        flash(_("You have signed out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("The session is ended."), "success")
    return redirect(url_for("auth.sessions"))


@bp.post("/account/sessions/end-others")
def end_other_sessions():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    ended = end_all_sessions(
        current_user, "ended by user", except_token=session.get(SESSION_TOKEN_KEY)
    )
    db.session.commit()
    flash(_("Other sessions ended: %(n)d.", n=ended), "success")
    return redirect(url_for("auth.sessions"))
