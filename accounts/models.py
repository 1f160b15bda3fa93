from zoneinfo import available_timezones

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

# ITIL resolution targets in hours for P1..P5; a product may override them.
DEFAULT_SLA_HOURS = {"P1": 4, "P2": 8, "P3": 24, "P4": 72, "P5": 168}


def default_sla_hours() -> dict[str, int]:
    return dict(DEFAULT_SLA_HOURS)


DEFAULT_SCORE_WEIGHTS = {"business_value": 1.0, "time_criticality": 1.0, "risk_reduction": 1.0}


def default_score_weights() -> dict[str, float]:
    return dict(DEFAULT_SCORE_WEIGHTS)


# The Definition of Ready's checks and whether each is on (see backlog/readiness.py); a product
# may change them. ``max_estimate``: the largest estimate an item may have to be ready (None: any).
DEFAULT_DEFINITION_OF_READY = {
    "estimate": True,
    "acceptance_criteria": True,
    "value_inputs": True,
    "description": False,
    "max_estimate": None,
}


MAX_READY_ESTIMATE = 1000


def default_definition_of_ready() -> dict:
    return dict(DEFAULT_DEFINITION_OF_READY)


def validate_definition_of_ready(value) -> None:
    """Known checks only; switches true or false; max_estimate whole points or null."""
    if not isinstance(value, dict) or set(value) - set(DEFAULT_DEFINITION_OF_READY):
        raise ValidationError(f"Give any of: {', '.join(DEFAULT_DEFINITION_OF_READY)}.")
    if not all(isinstance(on, bool) for name, on in value.items() if name != "max_estimate"):
        raise ValidationError("Turn checks on or off with true or false.")
    limit = value.get("max_estimate")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_READY_ESTIMATE
    ):
        raise ValidationError(f"max_estimate is whole points from 1 to {MAX_READY_ESTIMATE}, or null.")


# PostgreSQL's built-in text search configurations: how a product's items are split into words and
# stemmed for full-text search ("simple": no stemming, no stop words, any language).
SEARCH_CONFIGURATIONS = [
    "simple", "arabic", "armenian", "basque", "catalan", "danish", "dutch", "english", "finnish", "french",
    "german", "greek", "hindi", "hungarian", "indonesian", "irish", "italian", "lithuanian", "nepali",
    "norwegian", "portuguese", "romanian", "russian", "serbian", "spanish", "swedish", "tamil", "turkish",
    "yiddish",
]  # fmt: skip


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError("Choose a time zone from the list, for example Europe/Berlin.")


class User(AbstractUser):
    """A person using OneBacklog; product access comes from memberships."""

    display_name = models.CharField(max_length=100, blank=True, help_text="The name others see; the username if empty.")
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="Times are shown in this zone."
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class Product(models.Model):
    """A product with its one ordered backlog."""

    class ScoringModel(models.TextChoices):
        WSJF = "wsjf", "WSJF"
        RICE = "rice", "RICE"
        MOSCOW = "moscow", "MoSCoW"

    name = models.CharField(max_length=120)
    key = models.CharField(
        max_length=10,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z][A-Z0-9]{1,9}$",
                "Use 2 to 10 capital letters or digits, starting with a letter (for example OB).",
            )
        ],
        help_text="Short prefix of item keys, as in OB-42.",
    )
    description = models.TextField(blank=True)
    last_item_number = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="The highest item number handed out so far.",
    )
    stale_after_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1)],
        help_text="Items not touched for this many days are flagged as stale.",
    )
    sla_hours = models.JSONField(
        default=default_sla_hours,
        help_text="Resolution targets in hours for operational items, by ITIL priority P1–P5.",
    )
    scoring_model = models.CharField(
        max_length=10,
        choices=ScoringModel.choices,
        default=ScoringModel.WSJF,
        help_text="How items are scored. MoSCoW groups instead of scoring.",
    )
    score_weights = models.JSONField(
        default=default_score_weights,
        help_text="WSJF weights of business value, time criticality and risk reduction.",
    )
    scoring_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Bumped on every change of the scoring model or weights, and when many items' score inputs "
        "change at once (an import, new impact thresholds): every score is then recomputed.",
    )
    scores_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="The scoring_version the last finished whole-product recompute used; the schedule "
        "redoes a recompute while it lags behind (one lost with its worker, say).",
    )
    definition_of_ready = models.JSONField(
        default=default_definition_of_ready,
        validators=[validate_definition_of_ready],
        help_text="Which readiness checks apply: estimate, acceptance_criteria, value_inputs, description "
        "(true or false) and max_estimate (points, or null).",
    )
    debt_target_percent = models.PositiveSmallIntegerField(
        default=20,
        validators=[MaxValueValidator(100)],
        help_text="Technical-debt policy: the share of sprint capacity to spend on debt, in percent.",
    )
    sprint_capacity = models.PositiveSmallIntegerField(
        default=40,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Story points in a sprint: the top of the order this fills is the next-sprint slice.",
    )
    search_language = models.CharField(
        max_length=20,
        choices=[(name, name.capitalize()) for name in SEARCH_CONFIGURATIONS],
        default="english",
        help_text="The language full-text search stems words in (PostgreSQL's text search configuration; "
        "simple: no stemming, for mixed languages).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set when an owner archives the product."
    )

    members = models.ManyToManyField(User, through="Membership", related_name="products")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(debt_target_percent__lte=100), name="product_debt_target_percent"),
            models.CheckConstraint(condition=Q(sprint_capacity__gte=1), name="product_sprint_capacity_positive"),
            models.CheckConstraint(
                condition=Q(search_language__in=SEARCH_CONFIGURATIONS), name="product_search_language_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    def sla_hours_for(self, priority: int) -> int:
        return int(self.sla_hours.get(f"P{priority}", DEFAULT_SLA_HOURS[f"P{priority}"]))


class Membership(models.Model):
    """A user's role in one product."""

    class Role(models.TextChoices):
        OWNER = "owner", "Product owner"
        DEVELOPER = "developer", "Developer"
        STAKEHOLDER = "stakeholder", "Stakeholder"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    ordering_delegated = models.BooleanField(
        default=False,
        help_text="A developer who may order the backlog and review proposals for the owner.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="membership_one_per_user_product"),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "developer", "stakeholder"]),
                name="membership_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(ordering_delegated=False) | Q(role="developer"),
                name="membership_delegation_only_for_developers",
                violation_error_message="Only a developer can be delegated the ordering.",
            ),
        ]

    def __str__(self) -> str:
        delegated = ", ordering delegated" if self.ordering_delegated else ""
        return f"{self.user} – {self.get_role_display()} of {self.product.key}{delegated}"


class ApiToken(models.Model):
    """A personal API token. Only a hash of the secret is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CI defect filer'.")
    prefix = models.CharField(max_length=12, unique=True, editable=False, help_text="Public part, for look-up.")
    key_hash = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the whole token.")
    read_only = models.BooleanField(default=False, help_text="Allow only reading (GET, HEAD, OPTIONS).")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="children",
        help_text="The token this one was made with: it stops working when its parent does.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditEvent(models.Model):
    """One change to a product's members or settings: who, when, what, old → new.

    Written only through ``accounts.audit.audit_record``; ``data`` holds ``{"old": …, "new": …}``
    (either may be null: nothing before an addition, nothing after a removal) and, for an event
    about a person, ``"member"`` (their username) or ``"email"``.
    """

    class Action(models.TextChoices):
        PRODUCT_CREATED = "product.created", "Product created"
        PRODUCT_RENAMED = "product.renamed", "Product renamed"
        PRODUCT_ARCHIVED = "product.archived", "Product archived"
        PRODUCT_RESTORED = "product.restored", "Product restored"
        SETTINGS_CHANGED = "settings.changed", "Settings changed"
        MEMBER_ADDED = "member.added", "Member added"
        MEMBER_CHANGED = "member.changed", "Member's role changed"
        MEMBER_REMOVED = "member.removed", "Member removed"
        INVITATION_SENT = "invitation.sent", "Invitation sent"
        INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
        INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=30, choices=Action.choices)
    data = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["product", "-at"], name="audit_product_at")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.action} by {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def about(self) -> str:
        """Whom the event is about: a member's username or an invited address ("" if no one)."""
        return self.data.get("member") or self.data.get("email") or ""


class Invitation(models.Model):
    """An owner's invitation to join a product with a role: a single-use link that expires.

    Only a SHA-256 hash of the link's secret is stored. An invitation by username (``invitee``
    set) can be taken only by that user; one by e-mail by whoever signs in with the link.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    invitee = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    ordering_delegated = models.BooleanField(default=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ordering_delegated=False) | Q(role="developer"),
                name="invitation_delegation_only_for_developers",
                violation_error_message="Only a developer can be delegated the ordering.",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.product_id} as {self.role}"

    def is_open(self, now) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class Notification(models.Model):
    """Something that happened to a user's work, in their in-app inbox (made by a job after commit).

    ``key`` names the event (e.g. ``question:42``): one notification per user and event, however
    often the job runs. ``link`` is the page to open (a path). Who gets one, and where (the inbox,
    e-mail or both, as each user chose), is decided by ``notifications.services``: a row with
    ``in_app`` off exists only to be e-mailed (``email_due``) and is not in the inbox.
    """

    class Kind(models.TextChoices):
        QUESTION = "question", "A question on your proposal"
        ANSWER = "answer", "An answer to your question"
        ACCEPTED = "accepted", "Your proposal was accepted"
        REJECTED = "rejected", "Your proposal was rejected"
        MENTION = "mention", "You were mentioned in a comment"
        WATCHED = "watched", "A change to an item you watch"
        SLA_BREACH = "sla_breach", "An SLA target was breached"
        WEBHOOK_DISABLED = "webhook_disabled", "A webhook was disabled after failing"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=100)
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    in_app = models.BooleanField(default=True, help_text="Shown in the inbox.")
    email_due = models.BooleanField(default=False, help_text="To be e-mailed (at once or in the daily digest).")
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user_event")]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_user_unread"),
            models.Index(fields=["key"], name="notification_key"),  # a job reads back what it made
            models.Index(
                fields=["user"],
                condition=Q(email_due=True, emailed_at=None),
                name="notification_email_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.text}"


class IdempotencyKey(models.Model):
    """The first answer to a creating POST sent with an ``Idempotency-Key``, replayed for 24 hours
    (``accounts.idempotency``). Keys belong to a sender: a user (``user:<id>``) or a token that
    acts for no user (``intake:<id>``); one sender's key never answers another's request."""

    sender = models.CharField(max_length=40, help_text="Whose key: user:<id> or intake:<id>.")
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=300, help_text="The method and path it was first sent to.")
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request body (key order ignored).")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(encoder=DjangoJSONEncoder)
    headers = models.JSONField(default=dict, blank=True, help_text="The answer's ETag and Location, when it had them.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sender", "key"], name="idempotency_one_key_per_sender")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.sender} {self.key}"
