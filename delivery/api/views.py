"""The delivery API: allocation and Definition of Done, sprints (plan, commit, start, close),
done with the Definition of Done, retrospective actions, the policy report, velocity and forecast."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.access import access_product
from accounts.api.idempotency import idempotent_post
from accounts.permissions import Action
from backlog.access import access_item, item_ids_in
from backlog.api.preconditions import IF_MATCH, if_match_version
from backlog.api.serializers import ItemSerializer
from backlog.api.shared import ETAG, ITEM_REF, item_response
from config.api import reject_unknown_parameters, validated_input
from config.numbers import number_parameter
from delivery.access import access_retro_action, access_sprint
from delivery.api import serializers as s
from delivery.forecast import forecast as forecast_items
from delivery.forecast import item_forecast, velocity
from delivery.planning import Plan
from delivery.selectors import (
    delivery_settings_for,
    plan_for_items,
    plan_proposal,
    policy_report,
    sprint_items,
    sprint_list,
    sprint_policy,
)
from delivery.services.done import item_done
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import (
    retro_action_add,
    retro_action_to_debt,
    sprint_close,
    sprint_commit,
    sprint_create,
    sprint_start,
)

LAST = OpenApiParameter("last", OpenApiTypes.INT, description="How many closed sprints (1–50, default 6).")
NUMBER = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="The sprint's number.")


def settings_body(settings) -> dict:
    return {
        **settings.shares,
        "definition_of_done": settings.definition_of_done,
        "waiver_debt": settings.waiver_debt,
        "wip_limits": settings.wip_limits,
    }


def _row(row, reason: str | None = None) -> dict:
    body = {"key": row.key, "title": row.title, "kind": row.kind, "class": row.work_class, "estimate": row.estimate}
    if reason is not None:
        body["reason"] = reason
    return body


def plan_body(plan: Plan) -> dict:
    """A plan as the API shows it: the items, the diff against the top of the order, the figures."""
    return {
        "capacity": plan.capacity,
        "buffer_percent": plan.buffer,
        "plannable_points": plan.plannable,
        "points": plan.points,
        "items": [_row(row) for row in plan.items],
        "in": [_row(change.row, change.reason) for change in plan.added],
        "out": [_row(change.row, change.reason) for change in plan.dropped],
        "classes": [
            {
                "class": figure.work_class,
                "target_percent": figure.target,
                "top_percent": round(figure.before_percent, 1),
                "planned_percent": round(figure.after_percent, 1),
                "met": figure.met,
            }
            for figure in plan.classes
        ],
        "why": plan.why,
        "missed": [figure.why for figure in plan.missed],
        "unestimated": [row.key for row in plan.unestimated],
    }


def sprint_body(sprint) -> dict:
    body = dict(s.SprintSerializer(sprint).data)
    body["items"] = [
        {
            "key": entry.item.key,
            "title": entry.item.title,
            "status": entry.item.status,
            "class": entry.work_class,
            "points": entry.points,
            "done_at": entry.done_at,
        }
        for entry in sprint_items(sprint=sprint)
    ]
    body["policy_figures"] = sprint_policy(sprint=sprint).classes
    return body


class DeliverySettingsApi(GenericAPIView):
    serializer_class = s.DeliverySettingsSerializer

    @extend_schema(
        summary="The capacity allocation, the Definition of Done and the board's WIP limits",
        responses=s.DeliverySettingsBodySerializer,
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, set())
        product, _ = access_product(request.user, key)
        return Response(settings_body(delivery_settings_for(product=product)))

    @extend_schema(
        summary="Change the allocation (shares add up to at most 100 %) or the Definition of Done (owner)",
        responses=s.DeliverySettingsBodySerializer,
    )
    def patch(self, request, key: str):
        product, _ = access_product(request.user, key, Action.MANAGE)
        body = validated_input(s.DeliverySettingsSerializer, request, partial=True)
        changes = dict(body)
        if "wip_limits" in changes:
            changes["wip_limits"] = dict(changes["wip_limits"])
        settings = delivery_settings_update(product=product, actor=request.user, changes=changes)
        return Response(settings_body(settings))


class SprintListApi(GenericAPIView):
    serializer_class = s.SprintSerializer

    @extend_schema(
        summary="The product's sprints, newest first",
        operation_id="sprint_list",
        responses=s.SprintSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, set())
        product, _ = access_product(request.user, key)
        return Response(s.SprintSerializer(sprint_list(product=product), many=True).data)

    @extend_schema(
        summary="Create a planned sprint (owners and ordering delegates)",
        request=s.SprintCreateSerializer,
        responses={201: s.SprintDetailSerializer},
    )
    @idempotent_post()
    def post(self, request, key: str):
        product, _ = access_product(request.user, key, Action.REORDER)
        body = validated_input(s.SprintCreateSerializer, request)
        sprint = sprint_create(product=product, actor=request.user, **body)
        return Response(sprint_body(sprint), status=status.HTTP_201_CREATED)


class SprintDetailApi(GenericAPIView):
    serializer_class = s.SprintSerializer

    @extend_schema(
        summary="A sprint: its items (in rank order) and its policy figures",
        parameters=[NUMBER],
        responses=s.SprintDetailSerializer,
        operation_id="sprint_retrieve",
    )
    def get(self, request, key: str, number: int):
        reject_unknown_parameters(request, set())
        sprint, _ = access_sprint(request.user, key, number)
        return Response(sprint_body(sprint))


class SprintPlanApi(GenericAPIView):
    serializer_class = s.ItemsSerializer

    @extend_schema(
        summary="What planning proposes: the diff against the top of the order, and why",
        parameters=[NUMBER],
        responses=s.PlanSerializer,
    )
    def get(self, request, key: str, number: int):
        reject_unknown_parameters(request, set())
        sprint, _ = access_sprint(request.user, key, number)
        return Response(plan_body(plan_proposal(sprint=sprint)))

    @extend_schema(
        summary="The figures of an edited plan (nothing is saved)",
        parameters=[NUMBER],
        request=s.ItemsSerializer,
        responses=s.PlanSerializer,
    )
    def post(self, request, key: str, number: int):
        sprint, _ = access_sprint(request.user, key, number)
        body = validated_input(s.ItemsSerializer, request)
        ids = item_ids_in(sprint.product, body["items"], "items")
        return Response(plan_body(plan_for_items(sprint=sprint, item_ids=ids)))


class SprintCommitApi(GenericAPIView):
    serializer_class = s.CommitSerializer

    @extend_schema(
        summary="Commit the plan; a plan that misses a target needs a reason (owners and ordering delegates)",
        parameters=[NUMBER],
        responses=s.SprintDetailSerializer,
    )
    def post(self, request, key: str, number: int):
        sprint, _ = access_sprint(request.user, key, number, Action.REORDER)
        body = validated_input(s.CommitSerializer, request)
        ids = item_ids_in(sprint.product, body["items"], "items")
        sprint = sprint_commit(sprint=sprint, actor=request.user, item_ids=ids, reason=body["reason"])
        return Response(sprint_body(sprint))


class SprintStartApi(GenericAPIView):
    serializer_class = s.SprintSerializer

    @extend_schema(
        summary="Start a committed sprint (one active sprint per product)",
        request=None,
        parameters=[NUMBER],
        responses=s.SprintDetailSerializer,
    )
    def post(self, request, key: str, number: int):
        sprint, _ = access_sprint(request.user, key, number, Action.REORDER)
        return Response(sprint_body(sprint_start(sprint=sprint, actor=request.user)))


class SprintCloseApi(GenericAPIView):
    serializer_class = s.CloseSerializer

    @extend_schema(
        summary="Close the active sprint; unfinished items stay where they stand or go to the top",
        parameters=[NUMBER],
        responses=s.SprintDetailSerializer,
    )
    def post(self, request, key: str, number: int):
        sprint, _ = access_sprint(request.user, key, number, Action.REORDER)
        body = validated_input(s.CloseSerializer, request)
        sprint = sprint_close(sprint=sprint, actor=request.user, carry_over=body["carry_over"])
        return Response(sprint_body(sprint))


class RetroActionListApi(GenericAPIView):
    serializer_class = s.RetroActionSerializer

    @extend_schema(summary="A closed sprint's retrospective actions", parameters=[NUMBER])
    def get(self, request, key: str, number: int):
        reject_unknown_parameters(request, set())
        sprint, _ = access_sprint(request.user, key, number)
        return Response(s.RetroActionSerializer(sprint.actions.select_related("debt_item__product"), many=True).data)

    @extend_schema(
        summary="Add a retrospective action (owner and developers)",
        parameters=[NUMBER],
        request=s.RetroActionCreateSerializer,
        responses={201: s.RetroActionSerializer},
    )
    @idempotent_post()
    def post(self, request, key: str, number: int):
        sprint, _ = access_sprint(request.user, key, number, Action.EDIT_WORK)
        body = validated_input(s.RetroActionCreateSerializer, request)
        action = retro_action_add(sprint=sprint, actor=request.user, text=body["text"])
        return Response(s.RetroActionSerializer(action).data, status=status.HTTP_201_CREATED)


class RetroActionDebtApi(GenericAPIView):
    serializer_class = s.ToDebtSerializer

    @extend_schema(
        summary="Turn a retrospective action into a technical-debt proposal",
        parameters=[NUMBER],
        responses={201: ItemSerializer},
    )
    @idempotent_post()
    def post(self, request, key: str, number: int, action_id: int):
        action, _ = access_retro_action(request.user, key, number, action_id, Action.PROPOSE)
        body = validated_input(s.ToDebtSerializer, request)
        item = retro_action_to_debt(action=action, actor=request.user, **body)
        return item_response(item, status=status.HTTP_201_CREATED)


class ItemDoneApi(GenericAPIView):
    serializer_class = s.DoneSerializer

    @extend_schema(
        summary="Mark an item done: check each Definition of Done entry or waive it with a reason "
        "(each waiver creates a linked technical-debt item)",
        parameters=[ITEM_REF, ETAG, IF_MATCH],
        responses=s.DoneItemSerializer,
    )
    @idempotent_post()
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.DoneSerializer, request)
        expected = if_match_version(request, item)
        if expected is None:
            expected = body.get("version")
        waivers = {waiver["entry"]: waiver["reason"] for waiver in body["waivers"]}
        hours = {waiver["entry"]: waiver["interest_hours"] for waiver in body["waivers"] if "interest_hours" in waiver}
        done, created = item_done(
            item=item,
            actor=request.user,
            checked=body["checked"],
            waivers=waivers,
            interest_hours=hours,
            expected_version=expected,
        )
        response = item_response(done)
        response.data = {**response.data, "debt_items": [waiver.debt_item.key for waiver in created]}
        return response


class PolicyReportApi(GenericAPIView):
    serializer_class = s.PolicyReportSerializer

    @extend_schema(
        summary="The last closed sprints against the allocation: planned and done shares per class",
        parameters=[LAST],
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, {"last"})
        product, _ = access_product(request.user, key)
        last = number_parameter(request.query_params, "last", default=6, low=1, high=50)
        report = policy_report(product=product, last=last)
        return Response(
            {
                "summary": report.summary,
                "honoured": report.honoured,
                "judged": report.judged,
                "sprints": [
                    {
                        "number": row.sprint.number,
                        "name": row.sprint.name,
                        "honoured": row.honoured,
                        "plan_reason": row.sprint.plan_reason,
                        "classes": row.classes,
                    }
                    for row in report.sprints
                ],
            }
        )


class VelocityApi(GenericAPIView):
    serializer_class = s.VelocitySerializer

    @extend_schema(summary="Velocity: done points of the last closed sprints and their average", parameters=[LAST])
    def get(self, request, key: str):
        reject_unknown_parameters(request, {"last"})
        product, _ = access_product(request.user, key)
        last = number_parameter(request.query_params, "last", default=6, low=1, high=50)
        found = velocity(product=product, last=last)
        return Response(
            {
                "velocity": found.points,
                "sprints": [{"number": n, "name": name, "done_points": done} for n, name, done in found.sprints],
            }
        )


def _sprint_ref(result, offset: int | None) -> dict | None:
    if offset is None:
        return None
    return {"number": result.sprint_number(offset), "ends": result.sprint_end(offset)}


class ForecastApi(GenericAPIView):
    serializer_class = s.ForecastSerializer

    @extend_schema(
        summary="The forecast: each ordered item's likely sprint (by the allocation), 50 % and 85 % sprints "
        "for the top 500, unestimated items named",
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="Items from the top (1–1000, default 100).")
        ],
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, {"limit"})
        product, _ = access_product(request.user, key)
        limit = number_parameter(request.query_params, "limit", default=100, low=1, high=1000)
        result = forecast_items(product=product, limit=limit)
        return Response(
            {
                "velocity": result.velocity,
                "points_per_sprint": result.capacity_used,
                "shares": result.fractions,
                "unestimated": {"count": result.unestimated, "items": result.unestimated_keys},
                "items": [
                    {
                        "key": row.key,
                        "title": row.title,
                        "kind": row.kind,
                        "estimate": row.estimate,
                        "points_through": row.points_through,
                        "likely": _sprint_ref(result, row.sprint),
                        "p50": _sprint_ref(result, result.ranges.get(row.id, (None, None))[0]),
                        "p85": _sprint_ref(result, result.ranges.get(row.id, (None, None))[1]),
                    }
                    for row in result.rows
                ],
            }
        )


class ItemForecastApi(GenericAPIView):
    serializer_class = s.ItemForecastSerializer

    @extend_schema(summary="One item's likely sprint and its 50 % and 85 % range", parameters=[ITEM_REF])
    def get(self, request, ref: str):
        reject_unknown_parameters(request, set())
        item, _ = access_item(request.user, ref)
        found = item_forecast(item=item)
        return Response(
            {
                "key": item.key,
                "estimated": found.estimated,
                "done_in": found.done_in,
                "likely": None if found.sprint is None else {"number": found.sprint, "ends": found.end},
                "p50": None if found.p50 is None else {"number": found.p50[0], "ends": found.p50[1]},
                "p85": None if found.p85 is None else {"number": found.p85[0], "ends": found.p85[1]},
            }
        )
