from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import views as accounts_api
from backlog.api import views as backlog_api
from refinement.api import views as refinement_api

api_v1 = [
    path("products/", accounts_api.ProductListApi.as_view(), name="product-list"),
    path("products/<str:key>/", accounts_api.ProductDetailApi.as_view(), name="product-detail"),
    path("products/<str:key>/members/", accounts_api.MemberListApi.as_view(), name="member-list"),
    path("products/<str:key>/members/<str:username>/", accounts_api.MemberDetailApi.as_view(), name="member-detail"),
    path("products/<str:key>/items/", backlog_api.ItemListApi.as_view(), name="item-list"),
    path("products/<str:key>/items/move/", backlog_api.BlockMoveApi.as_view(), name="item-block-move"),
    path("products/<str:key>/scoring/", backlog_api.ScoringSettingsApi.as_view(), name="scoring"),
    path("products/<str:key>/suggested-order/", backlog_api.SuggestedOrderApi.as_view(), name="suggested-order"),
    path(
        "products/<str:key>/suggested-order/apply/",
        backlog_api.ApplySuggestionApi.as_view(),
        name="suggested-order-apply",
    ),
    path("items/<str:ref>/", backlog_api.ItemDetailApi.as_view(), name="item-detail"),
    path("items/<str:ref>/transition/", backlog_api.ItemTransitionApi.as_view(), name="item-transition"),
    path("items/<str:ref>/archive/", backlog_api.ItemArchiveApi.as_view(), name="item-archive"),
    path("items/<str:ref>/move/", backlog_api.ItemMoveApi.as_view(), name="item-move"),
    path("items/<str:ref>/history/", backlog_api.ItemHistoryApi.as_view(), name="item-history"),
    path("products/<str:key>/review-queue/", refinement_api.ReviewQueueApi.as_view(), name="review-queue"),
    path("products/<str:key>/my-proposals/", refinement_api.MyProposalsApi.as_view(), name="my-proposals"),
    path("products/<str:key>/refinement-agenda/", refinement_api.AgendaApi.as_view(), name="refinement-agenda"),
    path("products/<str:key>/stale-items/", refinement_api.StaleItemsApi.as_view(), name="stale-items"),
    path("products/<str:key>/debt-report/", refinement_api.DebtReportApi.as_view(), name="debt-report"),
    path("items/<str:ref>/accept/", refinement_api.AcceptApi.as_view(), name="proposal-accept"),
    path("items/<str:ref>/reject/", refinement_api.RejectApi.as_view(), name="proposal-reject"),
    path("items/<str:ref>/questions/", refinement_api.QuestionListApi.as_view(), name="proposal-questions"),
    path("items/<str:ref>/answer/", refinement_api.AnswerApi.as_view(), name="proposal-answer"),
    path("items/<str:ref>/comments/", refinement_api.CommentListApi.as_view(), name="comment-list"),
    path("items/<str:ref>/split/", refinement_api.SplitApi.as_view(), name="item-split"),
    path("comments/<int:comment_id>/", refinement_api.CommentDetailApi.as_view(), name="comment-detail"),
    path("tokens/", accounts_api.TokenListApi.as_view(), name="token-list"),
    path("tokens/<int:token_id>/", accounts_api.TokenDetailApi.as_view(), name="token-detail"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]

handler404 = "config.api.not_found"
