"""Signals of the ground-floor accounts app. Apps built on top of accounts (studio, gallery) connect
to them in their AppConfig.ready(); accounts itself never imports them (issue 14)."""

from django.dispatch import Signal

# Sent with ``user=`` by accounts.services.user_delete before the account row is deleted, inside no
# transaction: receivers remove what they keep for the user (files first). A receiver that raises
# stops the deletion, so nothing is half gone. studio connects studio.services.account_purge.
user_deleting = Signal()

# Sent with ``user=`` by accounts.services.user_ban after the account was deactivated: receivers stop
# what the account has going (studio connects studio.services.account_jobs_cancel).
user_banned = Signal()
