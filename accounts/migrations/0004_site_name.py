"""Name the site: account mails (password reset, confirmation) say "LoveLoveShot", not Django's "example.com".

The domain comes from LLS_SITE_DOMAIN when the migration runs (default loveloveshot.kr); links in the mails
are built from the request's own host either way."""

import os

from django.db import migrations


def name_site(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    domain = os.environ.get("LLS_SITE_DOMAIN", "loveloveshot.kr")
    Site.objects.update_or_create(id=1, defaults={"domain": domain, "name": "LoveLoveShot 러브러브샷"})


def unname_site(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    Site.objects.filter(id=1).update(domain="example.com", name="example.com")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_ux_upgrade_codes"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(name_site, unname_site)]
