"""Audit trail area: the service that records changes and the admin page that browses them."""
