"""Sign in and sign out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from tracker.auth import bp
from tracker.auth.forms import LoginForm, LogoutForm
from tracker.auth.services import end_session, get_user_by_email, start_session, verify_password
from tracker.extensions import db
from tracker.security import SESSION_TOKEN_KEY, safe_next


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        if current_user.is_authenticated:
            return redirect(form.next.data)
    if form.validate_on_submit():
        user = get_user_by_email(form.email.data)
        ok = verify_password(user, form.password.data)
        if ok and user is not None and user.is_active:
            session.clear()  # a new session at login (no fixation)
            token = start_session(user)
            db.session.commit()
            session[SESSION_TOKEN_KEY] = token
            login_user(user)
            return redirect(safe_next(form.next.data))
        db.session.commit()  # keep any rehash; nothing else was written
        # One answer for unknown e-mail, wrong password and disabled account.
        flash(_("The e-mail or password is not right."), "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


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
