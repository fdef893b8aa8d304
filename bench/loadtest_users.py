"""Creates the load test's litigators in the organisation that leads most cases."""

import os
import sys

from sqlalchemy import func, select

from tracker import create_app
from tracker.auth.models import Organisation
from tracker.auth.services import create_user
from tracker.cases.models import Case
from tracker.extensions import db
from tracker.types import Role

count = int(sys.argv[1])
app = create_app()
with app.app_context():
    org_id = db.session.scalar(
        select(Case.lead_organisation_id)
        .group_by(Case.lead_organisation_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    org = db.session.get(Organisation, org_id)
    emails = []
    for n in range(count):
        user = create_user(
            email=f"load{n}@loadtest.example",
            name=f"Load {n}",
            organisation=org,
            role=Role.LITIGATOR,
            password=os.environ["LOADTEST_PASSWORD"],
        )
        emails.append(user.email)
    db.session.commit()
    print(f"export LOADTEST_EMAILS={','.join(emails)} LOADTEST_ORG_ID={org_id}")
