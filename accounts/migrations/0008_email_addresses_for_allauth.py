"""Give each existing account with an e-mail address allauth's record of it (primary, not yet
confirmed), so that sign-in by e-mail, password reset and the uniqueness check find it. An address
two accounts share is left to neither: allauth records an address once."""

from collections import Counter

from django.db import migrations


def record_addresses(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    users = list(User.objects.exclude(email="").values_list("pk", "email"))
    counts = Counter(email.lower() for _, email in users)
    known = {email.lower() for email in EmailAddress.objects.values_list("email", flat=True)}
    has_one = set(EmailAddress.objects.values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=pk, email=email.lower(), primary=True, verified=False)
            for pk, email in users
            if counts[email.lower()] == 1 and email.lower() not in known and pk not in has_one
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_team_profiles_audit_invitations_inbox"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(record_addresses, migrations.RunPython.noop)]
