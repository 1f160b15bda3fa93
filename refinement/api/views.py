"""The refinement API: proposals and their review, comments, split, readiness, stale items, debt."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.access import access_product
from accounts.api.idempotency import idempotent_post
from accounts.permissions import Action
from backlog.access import access_item
from backlog.api.pagination import ItemCursorPagination, TimeCursorPagination
from backlog.api.preconditions import IF_MATCH, if_match_version
from backlog.api.serializers import ItemSerializer
from backlog.api.shared import ITEM_REF, PAGINATION_PARAMS, item_response, item_rows_page
from backlog.selectors import items_for_api, with_change_seq
from config.api import reject_unknown_parameters, validated_input
from config.numbers import number_parameter
from refinement.access import accept_place, access_comment, duplicate_in
from refinement.api import serializers as s
from refinement.selectors import (
    comments_for,
    costliest_debt,
    debt_figures,
    debt_trend,
    next_sprint_slice,
    proposals_of,
    questions_for,
    refinement_agenda,
    review_queue,
    stale_items,
    with_suggested_positions,
)
from refinement.services.comments import comment_create, comment_delete
from refinement.services.proposals import proposal_accept, proposal_answer, proposal_ask, proposal_reject
from refinement.services.split import item_split

MAX_AGENDA = 100


class ProposalPagination(TimeCursorPagination):
    ordering = ("-created_at", "-id")


class QuestionPagination(TimeCursorPagination):
    ordering = ("asked_at", "id")


class ReviewQueueApi(GenericAPIView):
    serializer_class = s.ReviewQueueItemSerializer
    pagination_class = TimeCursorPagination

    @extend_schema(
        summary="Proposals waiting for a decision, oldest first (owners and ordering delegates)",
        responses=s.ReviewQueueItemSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, PAGINATION_PARAMS - {"count"})
        product, _ = access_product(request.user, key, Action.REVIEW)
        page = self.paginate_queryset(with_change_seq(review_queue(product=product).prefetch_related("labels")))
        page = with_suggested_positions(list(page), product)
        return self.get_paginated_response(s.ReviewQueueItemSerializer(page, many=True).data)


class MyProposalsApi(GenericAPIView):
    serializer_class = s.ProposalSerializer
    pagination_class = ProposalPagination

    @extend_schema(
        summary="What I proposed in this product, newest first, with the review's questions and reasons",
        responses=s.ProposalSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, PAGINATION_PARAMS - {"count"})
        product, _ = access_product(request.user, key)
        page = self.paginate_queryset(proposals_of(product=product, user=request.user))
        return self.get_paginated_response(s.ProposalSerializer(page, many=True).data)


class AcceptApi(GenericAPIView):
    serializer_class = ItemSerializer

    @extend_schema(
        summary="Accept a proposal into the order: top, bottom, before/after an item, a position, or suggested",
        parameters=[ITEM_REF, IF_MATCH],
        request=s.AcceptSerializer,
    )
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.AcceptSerializer, request)
        place = accept_place(item.product, to=body["to"], anchor=body.get("anchor"), position=body.get("position"))
        accepted = proposal_accept(
            item=item, actor=request.user, expected_version=if_match_version(request, item), **place
        )
        return item_response(accepted)


class RejectApi(GenericAPIView):
    serializer_class = ItemSerializer

    @extend_schema(
        summary="Reject a proposal with a reason the proposer reads (optionally as a duplicate)",
        parameters=[ITEM_REF, IF_MATCH],
        request=s.RejectSerializer,
    )
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.RejectSerializer, request)
        duplicate = duplicate_in(item.product, body.get("duplicate_of"))
        rejected = proposal_reject(
            item=item,
            actor=request.user,
            reason=body["reason"],
            duplicate_of=duplicate,
            expected_version=if_match_version(request, item),
        )
        return item_response(rejected)


class QuestionListApi(GenericAPIView):
    serializer_class = s.QuestionSerializer
    pagination_class = QuestionPagination

    @extend_schema(
        summary="Questions asked on a proposal, with their answers",
        parameters=[ITEM_REF],
        responses=s.QuestionSerializer(many=True),
    )
    def get(self, request, ref: str):
        return item_rows_page(
            self, request, ref, questions_for, lambda page: s.QuestionSerializer(page, many=True).data
        )

    @extend_schema(
        summary="Ask the proposer for more information (owners and ordering delegates)",
        parameters=[ITEM_REF, IF_MATCH],
        request=s.AskSerializer,
        responses={201: s.QuestionSerializer},
    )
    @idempotent_post()
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.AskSerializer, request)
        asked = proposal_ask(
            item=item,
            actor=request.user,
            question=body["question"],
            expected_version=if_match_version(request, item),
        )
        return Response(s.QuestionSerializer(asked).data, status=status.HTTP_201_CREATED)


class AnswerApi(GenericAPIView):
    serializer_class = s.QuestionSerializer

    @extend_schema(
        summary="Answer the open question (the proposer); the proposal returns to the review queue",
        parameters=[ITEM_REF, IF_MATCH],
        request=s.AnswerSerializer,
    )
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.AnswerSerializer, request)
        answered = proposal_answer(
            item=item,
            actor=request.user,
            answer=body["answer"],
            expected_version=if_match_version(request, item),
        )
        return Response(s.QuestionSerializer(answered).data)


class CommentListApi(GenericAPIView):
    serializer_class = s.CommentSerializer
    pagination_class = TimeCursorPagination

    @extend_schema(
        summary="Comments on an item or proposal, oldest first",
        parameters=[ITEM_REF],
        responses=s.CommentSerializer(many=True),
    )
    def get(self, request, ref: str):
        return item_rows_page(self, request, ref, comments_for, lambda page: s.CommentSerializer(page, many=True).data)

    @extend_schema(
        summary="Comment (Markdown; rendered sanitized)",
        parameters=[ITEM_REF],
        request=s.CommentCreateSerializer,
        responses={201: s.CommentSerializer},
    )
    @idempotent_post()
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.CommentCreateSerializer, request)
        comment = comment_create(item=item, actor=request.user, body=body["body"])
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailApi(GenericAPIView):
    serializer_class = s.CommentSerializer

    @extend_schema(summary="Delete a comment (its author, or the product owner)", responses={204: OpenApiResponse()})
    def delete(self, request, comment_id: int):
        comment = access_comment(request.user, comment_id)
        comment_delete(comment=comment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SplitApi(GenericAPIView):
    serializer_class = s.SplitResultSerializer

    @extend_schema(
        summary="Split an item into smaller ones that take its place in the order (owners and delegates)",
        parameters=[ITEM_REF, IF_MATCH],
        request=s.SplitSerializer,
        responses={201: s.SplitResultSerializer},
    )
    @idempotent_post()
    def post(self, request, ref: str):
        item, _ = access_item(request.user, ref)
        body = validated_input(s.SplitSerializer, request)
        parts = item_split(
            item=item,
            actor=request.user,
            parts=[dict(part) for part in body["parts"]],
            keep_original=body["keep_original"],
            expected_version=if_match_version(request, item),
        )
        created = items_for_api(product=item.product).filter(pk__in=[part.pk for part in parts]).order_by("rank")
        return Response(s.SplitResultSerializer({"items": created}).data, status=status.HTTP_201_CREATED)


class AgendaApi(GenericAPIView):
    serializer_class = s.AgendaItemSerializer
    pagination_class = None

    @extend_schema(
        summary="The refinement agenda: the first not-ready items of the order, with what they lack",
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_AGENDA, "default": 10},
                description=f"How many (1 to {MAX_AGENDA}, default 10).",
            )
        ],
        responses=s.AgendaItemSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, {"limit"})
        product, _ = access_product(request.user, key)
        limit = number_parameter(request.query_params, "limit", default=10, low=1, high=MAX_AGENDA)
        items = refinement_agenda(product=product, limit=limit)
        return Response(s.AgendaItemSerializer(items, many=True).data)


class StaleItemsApi(GenericAPIView):
    serializer_class = ItemSerializer
    pagination_class = ItemCursorPagination

    @extend_schema(
        summary="Items nobody touched for the product's stale period, in backlog order",
        responses=ItemSerializer(many=True),
    )
    def get(self, request, key: str):
        reject_unknown_parameters(request, PAGINATION_PARAMS)
        product, _ = access_product(request.user, key)
        queryset = with_change_seq(
            stale_items(product=product).select_related("created_by", "split_from", "duplicate_of")
        )
        page = self.paginate_queryset(queryset.prefetch_related("labels"))
        return self.get_paginated_response(ItemSerializer(page, many=True).data)


class DebtReportApi(GenericAPIView):
    serializer_class = s.DebtReportSerializer

    @extend_schema(summary="Technical debt: totals, trend, the next sprint's share against the policy, costliest")
    def get(self, request, key: str):
        reject_unknown_parameters(request, set())
        product, _ = access_product(request.user, key)
        sprint = next_sprint_slice(product=product)
        share = sprint.debt_percent
        figures = debt_figures(product=product)
        report = {
            "totals": figures.totals,
            "totals_as_of": figures.as_of,
            "next_sprint": sprint,
            "policy": {
                "target_percent": product.debt_target_percent,
                "slice_percent": share,
                "honoured": None if share is None else share >= product.debt_target_percent,
            },
            "costliest": costliest_debt(product=product),
            "trend": debt_trend(product=product, today=timezone.localdate()),
        }
        return Response(s.DebtReportSerializer(report).data)
