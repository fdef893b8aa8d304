"""Fixtures for the taxonomy tests, usable by any area's tests.

`reference_data`: loads the shipped reference data (jurisdictions, systems and memberships,
instruments, provisions, rights and the crosswalk, forums, ratifications) with
`tracker.taxonomy.reference.load_reference()` and commits, so views and services see it.
Function-scoped, like `db`: the rows are removed after the test. Returns the load's counts
({table: (added, updated)}). Takes well under a second.

To use it from another area, import it in that area's conftest.py:

    from tests.taxonomy.conftest import reference_data  # noqa: F401
"""

from __future__ import annotations

import pytest

from tracker.taxonomy.reference import load_reference


@pytest.fixture()
def reference_data(db) -> dict[str, tuple[int, int]]:
    counts = load_reference()
    db.session.commit()
    return counts
