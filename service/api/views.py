"""The service-queue API: intake, queues, settings, the queue itself, the work on a ticket,
intake tokens. Thin views over the service's services and selectors."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.access import access_product
from accounts.api.authentication import AddressBudgetAuthentication, ApiTokenAuthentication
from accounts.api.idempotency import idempotent_post
from accounts.api.permissions import TokenScope
from accounts.models import Product
from accounts.permissions import Action
from backlog.access import access_item, item_in
from backlog.api.preconditions import IF_MATCH, if_match_version
from config.api import reject_unknown_parameters, validated_input
from config.numbers import number_parameter
from service.access import access_queue, access_ticket, intake_product, queue_in
from service.api import serializers as s
from service.api.authentication import IntakeThrottle, IntakeTokenAuthentication
from service.models import CauseInterest, IntakeToken, Occurrence, ServiceSettings, Ticket
from service.selectors import QUEUE_FILTERS, incidents_of, occurrence_list, queue_list, ticket_filters, ticket_list
from service.services.clocks import clocks_of
from service.services.incidents import evidence_of, hours_per_sprint, ticket_hours_lost_set, ticket_link_cause
from service.services.merging import occurrence_split, tickets_merge
from service.services.queues import queue_create, queue_update
from service.services.settings import service_settings_for, service_settings_update
from service.services.tickets import (
    ticket_acknowledge,
    ticket_assign,
    ticket_intake,
    ticket_resolve,
    ticket_resume,
    ticket_wait,
)
from service.services.tokens import intake_token_create, intake_token_revoke

KEY = OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, description="Product key, e.g. OB.")
REF = OpenApiParameter(
    "ref", OpenApiTypes.STR, OpenApiParameter.PATH, description="Item id or key, e.g. OB-42 (keys in any case)."
)


class TicketPagination(LimitOffsetPagination):
    """limit (1–200, 50 by default) and offset, read strictly: anything else is a 400 naming it."""

    default_limit = 50
    max_limit = 200

    def get_limit(self, request) -> int:
        return number_parameter(request.query_params, "limit", default=self.default_limit, low=1, high=self.max_limit)

    def get_offset(self, request) -> int:
        return number_parameter(request.query_params, "offset", default=0, low=0, high=10**9 - 1)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {"limit": {"minimum": 1, "maximum": self.max_limit}, "offset": {"minimum": 0, "maximum": 10**9 - 1}}
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        return parameters


def clock_context(product: Product, settings: ServiceSettings | None = None) -> dict:
    """The serializer context that shows each ticket's clocks as of now."""
    settings = settings or service_settings_for(product)
    now = timezone.now()
    return {"clocks": lambda ticket: clocks_of(ticket, settings, product, ticket.item.itil_priority, now)}


def ticket_response(ticket: Ticket, **kwargs) -> Response:
    ticket = Ticket.objects.select_related("item__product", "queue", "assignee", "cause__product").get(pk=ticket.pk)
    return Response(s.TicketSerializer(ticket, context=clock_context(ticket.item.product)).data, **kwargs)


class IntakeApi(GenericAPIView):
    """Intake for monitoring systems, a service portal or a script."""

    authentication_classes = [
        IntakeTokenAuthentication,
        ApiTokenAuthentication,
        SessionAuthentication,
        AddressBudgetAuthentication,
    ]
    permission_classes = [IsAuthenticated, TokenScope]
    throttle_classes = [IntakeThrottle]
    serializer_class = s.IntakeSerializer

    @extend_schema(
        summary="Send a service ticket: a new operational item, or an occurrence folded into the open one "
        "with the same fingerprint",
        parameters=[KEY],
        request=s.IntakeSerializer,
        responses={
            201: OpenApiResponse(s.IntakeResultSerializer, description="A new ticket."),
            200: OpenApiResponse(s.IntakeResultSerializer, description="Folded into an open ticket."),
            409: OpenApiResponse(s.ErrorSerializer, description="The Idempotency-Key was used with another body."),
        },
    )
    @idempotent_post()
    def post(self, request, key: str):
        token = request.auth if isinstance(request.auth, IntakeToken) else None
        product = intake_product(request.user, token, key)
        reject_unknown_parameters(request, set())
        fields = validated_input(s.IntakeSerializer, request)
        queue = queue_in(product, fields.pop("queue"))
        via = f"intake token {token.name}" if token else "api"
        result = ticket_intake(product=product, sender=request.user, queue=queue, via=via, **fields)
        ticket = result.ticket  # with its item, queue and assignee
        ticket.folded = result.folded
        body = s.IntakeResultSerializer(ticket, context=clock_context(product, result.settings)).data
        return Response(body, status=status.HTTP_200_OK if result.folded else status.HTTP_201_CREATED)


class QueueListApi(GenericAPIView):
    serializer_class = s.QueueSerializer

    @extend_schema(summary="The product's queues", parameters=[KEY], responses=s.QueueSerializer(many=True))
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        reject_unknown_parameters(request, set())
        return Response(s.QueueSerializer(queue_list(product=product), many=True).data)

    @extend_schema(
        summary="Add a queue (owners)",
        parameters=[KEY],
        request=s.QueueWriteSerializer,
        responses={201: s.QueueSerializer},
    )
    @idempotent_post()
    def post(self, request, key: str):
        product, _ = access_product(request.user, key, Action.MANAGE)
        fields = validated_input(s.QueueWriteSerializer, request)
        fields["owner"] = _member(fields["owner"])
        queue = queue_create(product=product, actor=request.user, **fields)
        return Response(s.QueueSerializer(queue).data, status=status.HTTP_201_CREATED)


def _member(username: str | None, field: str = "owner"):
    """The user a body names by username in ``field`` (None for none); a 400 on that field if no one is."""
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({field: [f"No user {username}."]})
    return user


class QueueDetailApi(GenericAPIView):
    serializer_class = s.QueueSerializer
    SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The queue's slug.")

    @extend_schema(summary="One queue", parameters=[KEY, SLUG])
    def get(self, request, key: str, slug: str):
        queue, _ = access_queue(request.user, key, slug)
        reject_unknown_parameters(request, set())
        return Response(s.QueueSerializer(queue).data)

    @extend_schema(
        summary="Rename, describe or re-own a queue (owners)", parameters=[KEY, SLUG], request=s.QueueUpdateSerializer
    )
    def patch(self, request, key: str, slug: str):
        queue, _ = access_queue(request.user, key, slug, Action.MANAGE)
        changes = validated_input(s.QueueUpdateSerializer, request, partial=True)
        if "owner" in changes:
            changes["owner"] = _member(changes["owner"])
        return Response(s.QueueSerializer(queue_update(queue=queue, actor=request.user, changes=changes)).data)


class ServiceSettingsApi(GenericAPIView):
    serializer_class = s.ServiceSettingsSerializer

    @extend_schema(summary="The product's service settings", parameters=[KEY])
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        reject_unknown_parameters(request, set())
        return Response(s.ServiceSettingsSerializer(service_settings_for(product)).data)

    @extend_schema(
        summary="Change the service settings (owners); new thresholds recalculate open tickets' priorities in a job",
        parameters=[KEY],
    )
    def patch(self, request, key: str):
        product, _ = access_product(request.user, key, Action.MANAGE)
        changes = validated_input(
            s.ServiceSettingsSerializer, request, instance=service_settings_for(product), partial=True
        )
        updated = service_settings_update(product=product, actor=request.user, changes=changes)
        return Response(s.ServiceSettingsSerializer(updated).data)


class ServiceQueueApi(GenericAPIView):
    serializer_class = s.TicketSerializer
    pagination_class = TicketPagination
    queryset = Ticket.objects.none()

    @extend_schema(
        summary="The open tickets in working order: by priority (interrupts first), then SLA due",
        parameters=[
            KEY,
            OpenApiParameter("queue", OpenApiTypes.STR, description="A queue's slug."),
            OpenApiParameter("priority", OpenApiTypes.STR, description="1–5 or P1–P5."),
            OpenApiParameter("breached", OpenApiTypes.BOOL, description="Only breached (true) or unbreached (false)."),
            OpenApiParameter("waiting", OpenApiTypes.BOOL, description="Only waiting on the reporter (true) or not."),
            OpenApiParameter("assignee", OpenApiTypes.STR, description="A username, or none."),
        ],
        responses=s.TicketSerializer(many=True),
    )
    def get(self, request, key: str):
        product, _ = access_product(request.user, key)
        reject_unknown_parameters(request, set(QUEUE_FILTERS) | {"limit", "offset"})
        tickets = ticket_list(product=product, filters=ticket_filters(request.query_params))
        page = self.paginate_queryset(tickets)
        return self.get_paginated_response(s.TicketSerializer(page, many=True, context=clock_context(product)).data)


class TicketApi(GenericAPIView):
    serializer_class = s.TicketSerializer

    @extend_schema(
        summary="An operational item's ticket: queue, calculated priority, occurrences, clocks", parameters=[REF]
    )
    def get(self, request, ref: str):
        ticket, _ = access_ticket(request.user, ref)
        reject_unknown_parameters(request, set())
        return ticket_response(ticket)


class TicketActionApi(GenericAPIView):
    """Acknowledge, wait on the reporter, resume on their reply, resolve."""

    serializer_class = s.TicketSerializer
    action_name = ""
    ACTIONS = {
        "acknowledge": (ticket_acknowledge, {}),
        "wait": (ticket_wait, {"note": "reason"}),
        "resume": (ticket_resume, {"note": "reply"}),
        "resolve": (ticket_resolve, {"note": "resolution"}),
    }

    @extend_schema(parameters=[REF, IF_MATCH], request=s.TicketActionSerializer)
    def post(self, request, ref: str):
        ticket, _ = access_ticket(request.user, ref)
        body = validated_input(s.TicketActionSerializer, request)
        service, renamed = self.ACTIONS[self.action_name]
        extra = {renamed["note"]: body["note"]} if renamed else {}
        service(item=ticket.item, actor=request.user, expected_version=if_match_version(request, ticket.item), **extra)
        return ticket_response(ticket)


def action_view(name: str, summary: str):
    view = type(
        f"Ticket{name.title()}Api",
        (TicketActionApi,),
        {"action_name": name, "post": extend_schema(summary=summary)(TicketActionApi.post)},
    )
    return view.as_view()


class TicketAssignApi(GenericAPIView):
    serializer_class = s.TicketSerializer

    @extend_schema(
        summary="Assign the ticket to a member who works on items, or to no one",
        parameters=[REF, IF_MATCH],
        request=s.AssignSerializer,
    )
    def post(self, request, ref: str):
        ticket, _ = access_ticket(request.user, ref)
        assignee = _member(validated_input(s.AssignSerializer, request)["assignee"], "assignee")
        ticket_assign(
            item=ticket.item,
            actor=request.user,
            assignee=assignee,
            expected_version=if_match_version(request, ticket.item),
        )
        return ticket_response(ticket)


class IntakeTokenListApi(GenericAPIView):
    serializer_class = s.IntakeTokenSerializer

    @extend_schema(
        summary="The product's intake tokens (owners)", parameters=[KEY], responses=s.IntakeTokenSerializer(many=True)
    )
    def get(self, request, key: str):
        product, _ = access_product(request.user, key, Action.MANAGE)
        reject_unknown_parameters(request, set())
        return Response(s.IntakeTokenSerializer(IntakeToken.objects.filter(product=product), many=True).data)

    @extend_schema(
        summary="Make an intake token: it may only send tickets to this product's intake (owners)",
        parameters=[KEY],
        request=s.IntakeTokenSerializer,
        responses={201: s.IntakeTokenCreatedSerializer},
    )
    @idempotent_post(secret_fields=("token",))
    def post(self, request, key: str):
        product, _ = access_product(request.user, key, Action.MANAGE)
        body = validated_input(s.IntakeTokenSerializer, request)
        token, raw = intake_token_create(product=product, actor=request.user, name=body["name"])
        shown = s.IntakeTokenSerializer(token).data
        return Response({**shown, "token": raw}, status=status.HTTP_201_CREATED)


class IntakeTokenDetailApi(GenericAPIView):
    serializer_class = s.IntakeTokenSerializer

    @extend_schema(
        summary="Revoke an intake token (owners)",
        parameters=[KEY, OpenApiParameter("token_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    def delete(self, request, key: str, token_id: int):
        product, _ = access_product(request.user, key, Action.MANAGE)
        token = IntakeToken.objects.filter(product=product, pk=token_id).first()
        if token is None:
            raise Http404("No such token.")
        token.product = product
        return Response(s.IntakeTokenSerializer(intake_token_revoke(token=token, actor=request.user)).data)


class TicketCauseApi(GenericAPIView):
    serializer_class = s.TicketSerializer

    @extend_schema(
        summary="Name the item that causes this incident (a problem, often technical debt), or none",
        parameters=[REF, IF_MATCH],
        request=s.CauseSerializer,
    )
    def post(self, request, ref: str):
        ticket, _ = access_ticket(request.user, ref)
        reference = validated_input(s.CauseSerializer, request)["cause"]
        cause = item_in(ticket.item.product, reference, "cause") if reference is not None else None
        ticket_link_cause(
            item=ticket.item, actor=request.user, cause=cause, expected_version=if_match_version(request, ticket.item)
        )
        return ticket_response(ticket)


class TicketHoursLostApi(GenericAPIView):
    serializer_class = s.TicketSerializer

    @extend_schema(
        summary="Record the hours an incident cost", parameters=[REF, IF_MATCH], request=s.HoursLostSerializer
    )
    def post(self, request, ref: str):
        ticket, _ = access_ticket(request.user, ref)
        body = validated_input(s.HoursLostSerializer, request)
        ticket_hours_lost_set(
            item=ticket.item,
            actor=request.user,
            hours=body["hours_lost"],
            expected_version=if_match_version(request, ticket.item),
        )
        return ticket_response(ticket)


class CauseIncidentsApi(GenericAPIView):
    serializer_class = s.CauseIncidentsSerializer

    @extend_schema(
        summary="The incidents an item causes and the hours they cost per sprint (its interest when higher)",
        parameters=[REF],
    )
    def get(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        reject_unknown_parameters(request, set())
        sprints = hours_per_sprint(cause=item, settings=service_settings_for(item.product), now=timezone.now())
        record = CauseInterest.objects.filter(item=item).first()
        body = {
            "hours_lost_per_sprint": evidence_of(sprints),
            "interest_given": record.given if record else item.interest_hours,
            "interest_hours": item.interest_hours,
            "sprints": sprints,
            "incidents": list(incidents_of(cause=item)[:100]),
        }
        return Response(s.CauseIncidentsSerializer(body).data)


class OccurrenceListApi(GenericAPIView):
    serializer_class = s.OccurrenceSerializer
    pagination_class = TicketPagination
    queryset = Occurrence.objects.none()

    @extend_schema(
        summary="A ticket's occurrences, newest first", parameters=[REF], responses=s.OccurrenceSerializer(many=True)
    )
    def get(self, request, ref: str):
        ticket, _ = access_ticket(request.user, ref)
        reject_unknown_parameters(request, {"limit", "offset"})
        page = self.paginate_queryset(occurrence_list(ticket=ticket))
        return self.get_paginated_response(s.OccurrenceSerializer(page, many=True).data)


class OccurrenceSplitApi(GenericAPIView):
    serializer_class = s.TicketSerializer

    @extend_schema(
        summary="Split an occurrence out into a ticket of its own (owners and delegates)",
        parameters=[REF, OpenApiParameter("occurrence_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=s.OccurrenceSplitSerializer,
        responses={201: s.TicketSerializer},
    )
    @idempotent_post()
    def post(self, request, ref: str, occurrence_id: int):
        ticket, _ = access_ticket(request.user, ref)
        occurrence = Occurrence.objects.filter(pk=occurrence_id, ticket=ticket).first()
        if occurrence is None:
            raise Http404("No such occurrence.")
        body = validated_input(s.OccurrenceSplitSerializer, request)
        new = occurrence_split(occurrence=occurrence, actor=request.user, fingerprint=body["fingerprint"])
        return ticket_response(new, status=status.HTTP_201_CREATED)


class TicketMergeApi(GenericAPIView):
    serializer_class = s.TicketSerializer

    @extend_schema(
        summary="Merge this ticket into another: its occurrences move, it leaves the backlog (owners and delegates)",
        parameters=[REF],
        request=s.MergeSerializer,
    )
    def post(self, request, ref: str):
        ticket, _ = access_ticket(request.user, ref)
        target = item_in(ticket.item.product, validated_input(s.MergeSerializer, request)["into"], "into")
        kept = tickets_merge(source=ticket.item, target=target, actor=request.user)
        return ticket_response(kept)
