"""Outgoing mail. Without MAIL_SERVER nothing is sent: the caller shows the link instead."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send_mail(*, to: str, subject: str, body: str) -> bool:
    """Send a plain-text message; True if handed to the SMTP server. Never raises.

    The body may carry a one-time link, so it is never written to the log: only the fact
    that a message was (or could not be) sent.
    """
    if not mail_configured():
        return False
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        with smtplib.SMTP(
            current_app.config["MAIL_SERVER"], current_app.config["MAIL_PORT"], timeout=10
        ) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to %s (%s) not sent: %s", to, subject, exc)
        return False
    log.info("mail sent to %s: %s", to, subject)
    return True
