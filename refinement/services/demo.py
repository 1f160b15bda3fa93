"""Demo refinement for the demo product: proposals at every stage of review, comments, debt."""

from accounts.models import Product, User
from backlog.models import Item
from backlog.services.items import item_create
from refinement.services.comments import comment_create
from refinement.services.debt import debt_snapshot_take
from refinement.services.proposals import proposal_answer, proposal_ask, proposal_reject

# The proposals the demo shows, each at a stage of review: who proposes it, and its fields.
PROPOSALS = {
    "answered": (
        "developer",
        {
            "kind": Item.Kind.TECH_DEBT,
            "title": "Replace the hand-rolled CSV parser",
            "description": "It breaks on quoted newlines; three support tickets this quarter.",
            "interest_hours": 6,
            "estimate": 5,
            "value_beneficiaries": "Support, and every customer importing data",
            "value_risk_removed": "Silent data corruption on import",
        },
    ),
    "asked": (
        "developer",
        {
            "kind": Item.Kind.SPIKE,
            "title": "Can we move search to PostgreSQL full-text?",
            "question": "Does PostgreSQL full-text search meet our relevance needs?",
            "timebox_days": 3,
            "value_beneficiaries": "Operations: one service less to run",
            "value_cost_of_delay": "The search cluster's licence renews in March",
            "value_risk_removed": "Running an unsupported search version",
        },
    ),
    "waiting": (
        "stakeholder",
        {
            "kind": Item.Kind.STORY,
            "title": "Export the backlog as a spreadsheet",
            "description": "Finance asks for it every quarter.",
        },
    ),
    "rejected": ("stakeholder", {"kind": Item.Kind.STORY, "title": "Dark mode, again"}),
}
DEMO_PROPOSALS = len(PROPOSALS)


def refinement_demo_seed(*, product: Product, owner: User, developer: User, stakeholder: User) -> None:
    """Proposals waiting, asked about, answered and rejected; a few comments; today's debt."""
    people = {"developer": developer, "stakeholder": stakeholder}
    made = {
        stage: item_create(product=product, actor=people[proposer], **fields)
        for stage, (proposer, fields) in PROPOSALS.items()
    }
    proposal_ask(item=made["answered"], actor=owner, question="How many imports fail today?")
    proposal_answer(item=made["answered"], actor=developer, answer="About 2 % of uploads; all with quoted newlines.")
    proposal_ask(item=made["asked"], actor=owner, question="What would we measure to decide?")
    proposal_reject(item=made["rejected"], actor=owner, reason="Not this quarter: accessibility fixes come first.")
    top = Item.objects.filter(product=product).ordered().first()
    if top is not None:
        comment_create(item=top, actor=developer, body="Could we **split** this? The API part is independent.")
        comment_create(item=top, actor=owner, body="Yes — see the acceptance criteria, first two points.")
    debt_snapshot_take(product_id=product.pk)
