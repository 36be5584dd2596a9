"""Mail flows end to end through the real allauth views: the mail lands in django.core.mail.outbox
(test settings: locmem backend), its link is followed, and the new password signs in."""

import re

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://testserver(/accounts/password/reset/key/[^\s]+/)")


def _reset_link(message) -> str:
    found = LINK.findall(message.body)
    assert len(found) == 1, message.body
    return found[0]


def test_password_reset_mail_link_sets_a_new_password(client, user, password):
    new_password = "Han-river-picnic-2027!"
    form = client.get(reverse("account_reset_password"))
    assert form.status_code == 200

    sent = client.post(reverse("account_reset_password"), {"email": user.email.upper()})
    assert sent.status_code == 302 and sent["Location"] == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject.startswith("[LoveLoveShot] ")
    assert "LoveLoveShot" in message.from_email
    assert "example.com" not in message.subject + message.body  # the site is named (accounts 0004)
    assert "LoveLoveShot" in message.body

    # The link carries the key; allauth moves it into the session and redirects to a key-less URL.
    page = client.get(_reset_link(message), follow=True)
    assert page.status_code == 200
    assert 'name="password1"' in page.content.decode()
    done = client.post(page.redirect_chain[-1][0] if page.redirect_chain else _reset_link(message),
                       {"password1": new_password, "password2": new_password})
    assert done.status_code == 302, done.content.decode()[:2000]

    user.refresh_from_db()
    assert user.check_password(new_password) and not user.check_password(password)

    client.logout()
    old = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert old.status_code == 200  # the form again, with an error: the old password no longer works
    assert "_auth_user_id" not in client.session
    signed_in = client.post(reverse("account_login"), {"login": user.email, "password": new_password})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_used_reset_link_is_refused(client, user):
    client.post(reverse("account_reset_password"), {"email": user.email})
    link = _reset_link(mail.outbox[0])
    page = client.get(link, follow=True)
    client.post(page.redirect_chain[-1][0], {"password1": "Seoul-night-lights-9", "password2": "Seoul-night-lights-9"})

    again = client.get(link, follow=True)
    assert again.status_code == 200
    assert 'name="password1"' not in again.content.decode()
    user.refresh_from_db()
    assert user.check_password("Seoul-night-lights-9")


def test_reset_for_an_unknown_address_answers_the_same_and_sends_no_reset_link(client, user):
    answer = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert answer.status_code == 302 and answer["Location"] == reverse("account_reset_password_done")
    # allauth tells the unknown address that it has no account (no key in it); nothing goes to others.
    assert all(m.to == ["nobody@example.com"] for m in mail.outbox)
    assert not any(LINK.search(m.body) for m in mail.outbox)
