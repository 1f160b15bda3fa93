from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_team_profiles_audit_invitations_inbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="last_change_seq",
            field=models.PositiveBigIntegerField(
                default=0,
                editable=False,
                help_text="The sequence number of the product's latest item change (the change feed).",
            ),
        ),
    ]
