from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as accounts_pages
from accounts.api import views as accounts_api
from backlog import io_views as backlog_io_pages
from backlog import link_views as link_pages
from backlog import settings_views as backlog_settings_pages
from backlog import theme_views as theme_pages
from backlog import views as backlog_pages
from backlog.api import io as backlog_io_api
from backlog.api import links as links_api
from backlog.api import saved_views as saved_views_api
from backlog.api import themes as themes_api
from backlog.api import views as backlog_api
from config.schema import DocsView, SchemaView
from delivery.api import roadmap as roadmap_api
from delivery.api import views as delivery_api
from notifications import views as notifications_pages
from notifications.api import views as notifications_api
from refinement import views as refinement_pages
from refinement.api import views as refinement_api
from search.api import views as search_api
from service import views as service_pages
from service.api import views as service_api
from webhooks import urls as webhook_urls

api_v1 = [
    path("products/", accounts_api.ProductListApi.as_view(), name="product-list"),
    path("products/<str:key>/", accounts_api.ProductDetailApi.as_view(), name="product-detail"),
    path("products/<str:key>/members/", accounts_api.MemberListApi.as_view(), name="member-list"),
    path("products/<str:key>/members/<str:username>/", accounts_api.MemberDetailApi.as_view(), name="member-detail"),
    path("products/<str:key>/audit/", accounts_api.AuditListApi.as_view(), name="audit"),
    path("products/<str:key>/items/", backlog_api.ItemListApi.as_view(), name="item-list"),
    path("products/<str:key>/items/move/", backlog_api.BlockMoveApi.as_view(), name="item-block-move"),
    path("products/<str:key>/items/bulk/", backlog_api.BulkEditApi.as_view(), name="item-bulk-edit"),
    path("products/<str:key>/changes/", backlog_api.ChangeFeedApi.as_view(), name="change-feed"),
    path("products/<str:key>/export/", backlog_io_api.ExportApi.as_view(), name="export"),
    path("products/<str:key>/imports/", backlog_io_api.ImportListApi.as_view(), name="import-list"),
    path("products/<str:key>/imports/<int:import_id>/", backlog_io_api.ImportDetailApi.as_view(), name="import-detail"),
    path(
        "products/<str:key>/imports/<int:import_id>/confirm/",
        backlog_io_api.ImportConfirmApi.as_view(),
        name="import-confirm",
    ),
    path("products/<str:key>/scoring/", backlog_api.ScoringSettingsApi.as_view(), name="scoring"),
    path("products/<str:key>/suggested-order/", backlog_api.SuggestedOrderApi.as_view(), name="suggested-order"),
    path(
        "products/<str:key>/suggested-order/apply/",
        backlog_api.ApplySuggestionApi.as_view(),
        name="suggested-order-apply",
    ),
    path("products/<str:key>/views/", saved_views_api.SavedViewListApi.as_view(), name="saved-view-list"),
    path("views/<int:view_id>/", saved_views_api.SavedViewDetailApi.as_view(), name="saved-view-detail"),
    path("items/<str:ref>/", backlog_api.ItemDetailApi.as_view(), name="item-detail"),
    path("items/<str:ref>/transition/", backlog_api.ItemTransitionApi.as_view(), name="item-transition"),
    path("items/<str:ref>/archive/", backlog_api.ItemArchiveApi.as_view(), name="item-archive"),
    path("items/<str:ref>/move/", backlog_api.ItemMoveApi.as_view(), name="item-move"),
    path("items/<str:ref>/history/", backlog_api.ItemHistoryApi.as_view(), name="item-history"),
    path("items/<str:ref>/links/", links_api.ItemLinkListApi.as_view(), name="item-links"),
    path("items/<str:ref>/links/<int:link_id>/", links_api.ItemLinkDetailApi.as_view(), name="item-link"),
    path("products/<str:key>/themes/", themes_api.ThemeListApi.as_view(), name="theme-list"),
    path("products/<str:key>/themes/<int:theme_id>/", themes_api.ThemeDetailApi.as_view(), name="theme-detail"),
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
    path("products/<str:key>/delivery/", delivery_api.DeliverySettingsApi.as_view(), name="delivery-settings"),
    path("products/<str:key>/sprints/", delivery_api.SprintListApi.as_view(), name="sprint-list"),
    path("products/<str:key>/sprints/<int:number>/", delivery_api.SprintDetailApi.as_view(), name="sprint-detail"),
    path("products/<str:key>/sprints/<int:number>/plan/", delivery_api.SprintPlanApi.as_view(), name="sprint-plan"),
    path(
        "products/<str:key>/sprints/<int:number>/commit/", delivery_api.SprintCommitApi.as_view(), name="sprint-commit"
    ),
    path("products/<str:key>/sprints/<int:number>/start/", delivery_api.SprintStartApi.as_view(), name="sprint-start"),
    path("products/<str:key>/sprints/<int:number>/close/", delivery_api.SprintCloseApi.as_view(), name="sprint-close"),
    path(
        "products/<str:key>/sprints/<int:number>/actions/",
        delivery_api.RetroActionListApi.as_view(),
        name="retro-actions",
    ),
    path(
        "products/<str:key>/sprints/<int:number>/actions/<int:action_id>/debt/",
        delivery_api.RetroActionDebtApi.as_view(),
        name="retro-action-debt",
    ),
    path("products/<str:key>/policy-report/", delivery_api.PolicyReportApi.as_view(), name="policy-report"),
    path("products/<str:key>/velocity/", delivery_api.VelocityApi.as_view(), name="velocity"),
    path("products/<str:key>/forecast/", delivery_api.ForecastApi.as_view(), name="forecast"),
    path("products/<str:key>/roadmap/", roadmap_api.RoadmapApi.as_view(), name="roadmap"),
    path("items/<str:ref>/done/", delivery_api.ItemDoneApi.as_view(), name="item-done"),
    path("items/<str:ref>/forecast/", delivery_api.ItemForecastApi.as_view(), name="item-forecast"),
    path("notifications/", accounts_api.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read/", accounts_api.NotificationsReadApi.as_view(), name="notifications-read"),
    path("notifications/preferences/", notifications_api.PreferencesApi.as_view(), name="notification-preferences"),
    path("items/<str:ref>/watch/", notifications_api.WatchApi.as_view(), name="item-watch"),
    path("products/<str:key>/intake/", service_api.IntakeApi.as_view(), name="intake"),
    path("products/<str:key>/intake-tokens/", service_api.IntakeTokenListApi.as_view(), name="intake-token-list"),
    path(
        "products/<str:key>/intake-tokens/<int:token_id>/",
        service_api.IntakeTokenDetailApi.as_view(),
        name="intake-token-detail",
    ),
    path("products/<str:key>/queues/", service_api.QueueListApi.as_view(), name="queue-list"),
    path("products/<str:key>/queues/<str:slug>/", service_api.QueueDetailApi.as_view(), name="queue-detail"),
    path("products/<str:key>/service-settings/", service_api.ServiceSettingsApi.as_view(), name="service-settings"),
    path("products/<str:key>/service-queue/", service_api.ServiceQueueApi.as_view(), name="service-queue"),
    path("items/<str:ref>/ticket/", service_api.TicketApi.as_view(), name="ticket"),
    path(
        "items/<str:ref>/ticket/acknowledge/",
        service_api.action_view("acknowledge", "Acknowledge: the response target is met and the work starts"),
        name="ticket-acknowledge",
    ),
    path(
        "items/<str:ref>/ticket/wait/",
        service_api.action_view("wait", "Wait on the reporter: the clocks stand"),
        name="ticket-wait",
    ),
    path(
        "items/<str:ref>/ticket/resume/",
        service_api.action_view("resume", "The reporter replied: the clocks run again"),
        name="ticket-resume",
    ),
    path(
        "items/<str:ref>/ticket/resolve/",
        service_api.action_view("resolve", "Resolve: the item is done and the clocks stop"),
        name="ticket-resolve",
    ),
    path("items/<str:ref>/ticket/assign/", service_api.TicketAssignApi.as_view(), name="ticket-assign"),
    path("items/<str:ref>/ticket/occurrences/", service_api.OccurrenceListApi.as_view(), name="occurrence-list"),
    path(
        "items/<str:ref>/ticket/occurrences/<int:occurrence_id>/split/",
        service_api.OccurrenceSplitApi.as_view(),
        name="occurrence-split",
    ),
    path("items/<str:ref>/ticket/merge/", service_api.TicketMergeApi.as_view(), name="ticket-merge"),
    path("items/<str:ref>/ticket/cause/", service_api.TicketCauseApi.as_view(), name="ticket-cause"),
    path("items/<str:ref>/ticket/hours-lost/", service_api.TicketHoursLostApi.as_view(), name="ticket-hours-lost"),
    path("items/<str:ref>/incidents/", service_api.CauseIncidentsApi.as_view(), name="cause-incidents"),
    path("search/", search_api.SearchApi.as_view(), name="search"),
    path("tokens/", accounts_api.TokenListApi.as_view(), name="token-list"),
    path("tokens/<int:token_id>/", accounts_api.TokenDetailApi.as_view(), name="token-detail"),
    *webhook_urls.api_v1,
]

pages = [
    path("", accounts_pages.home, name="home"),
    path("me/", accounts_pages.me, name="me"),
    path("me/tokens/<int:token_id>/revoke/", accounts_pages.token_revoke_view, name="token-revoke"),
    path("products/new/", accounts_pages.product_new, name="product-new"),
    path("invitations/<str:token>/", accounts_pages.invitation_page, name="invitation"),
    path("invitations/<str:token>/signup/", accounts_pages.invitation_sign_up, name="invitation-signup"),
    path("p/<str:key>/settings/", accounts_pages.product_settings_page, name="product-settings"),
    path("p/<str:key>/members/", accounts_pages.members_page, name="members"),
    path("p/<str:key>/invite/", accounts_pages.member_invite, name="member-invite"),
    path("p/<str:key>/members/<str:username>/", accounts_pages.member_change, name="member-change"),
    path("p/<str:key>/members/<str:username>/remove/", accounts_pages.member_remove, name="member-remove"),
    path(
        "p/<str:key>/invitations/<int:invitation_id>/revoke/",
        accounts_pages.invitation_revoke_view,
        name="invitation-revoke",
    ),
    path("p/<str:key>/audit/", accounts_pages.audit_page, name="audit"),
    path("p/<str:key>/scoring/", backlog_settings_pages.scoring_page, name="scoring-settings"),
    path("p/<str:key>/labels/", backlog_settings_pages.labels_page, name="labels"),
    path("p/<str:key>/labels/<int:label_id>/", backlog_settings_pages.label_change, name="label-change"),
    path("me/profile/", accounts_pages.profile_update, name="profile"),
    path("inbox/", accounts_pages.inbox, name="inbox"),
    path("inbox/<int:notification_id>/", accounts_pages.notification_open, name="notification-open"),
    path("me/notifications/", notifications_pages.preferences_page, name="notification-preferences"),
    path("p/<str:key>/people/", notifications_pages.people_page, name="people"),
    # django-allauth: sign-in, sign-up, sign-out (POST), e-mail confirmation, password change and reset.
    path("accounts/", include("allauth.urls")),
    path("p/<str:key>/", backlog_pages.backlog_page, name="backlog"),
    path("p/<str:key>/new/", backlog_pages.item_new, name="item-new"),
    path("p/<str:key>/views/", backlog_pages.saved_view_save, name="saved-view-save"),
    path("p/<str:key>/views/<int:view_id>/", backlog_pages.saved_view_change, name="saved-view-change"),
    path("p/<str:key>/suggested/", backlog_pages.suggested_page, name="suggested"),
    path("p/<str:key>/import/", backlog_io_pages.imports_page, name="imports"),
    path("p/<str:key>/import/<int:import_id>/", backlog_io_pages.import_page, name="import"),
    path("p/<str:key>/import/<int:import_id>/confirm/", backlog_io_pages.import_confirm_view, name="import-confirm"),
    path("p/<str:key>/review/", refinement_pages.review_queue_page, name="review-queue"),
    path("p/<str:key>/proposals/", refinement_pages.my_proposals_page, name="my-proposals"),
    path("p/<str:key>/refinement/", refinement_pages.agenda_page, name="agenda"),
    path("p/<str:key>/debt/", refinement_pages.debt_page, name="debt"),
    path("p/<str:key>/service/", service_pages.queue_page, name="service-queue"),
    path("p/<str:key>/service/new/", service_pages.intake_page, name="service-intake"),
    path("p/<str:key>/service/<int:number>/", service_pages.ticket_page, name="service-ticket"),
    path("p/<str:key>/<int:number>/incidents/", service_pages.cause_page, name="cause-incidents"),
    path(
        "p/<str:key>/service/<int:number>/<str:action>/",
        service_pages.ticket_action,
        name="service-ticket-action",
    ),
    path("p/<str:key>/themes/", theme_pages.themes_page, name="themes"),
    path("p/<str:key>/themes/<int:theme_id>/", theme_pages.theme_page, name="theme"),
    path("p/<str:key>/themes/<int:theme_id>/delete/", theme_pages.theme_delete_view, name="theme-delete"),
    path("p/<str:key>/<int:number>/", backlog_pages.item_page, name="item"),
    path("p/<str:key>/<int:number>/links/", link_pages.link_add, name="item-link-add"),
    path("p/<str:key>/<int:number>/links/<int:link_id>/remove/", link_pages.link_remove, name="item-link-remove"),
    path("p/<str:key>/<int:number>/edit/", backlog_pages.item_edit, name="item-edit"),
    path("p/<str:key>/<int:number>/status/", backlog_pages.item_transition_view, name="item-transition"),
    path("p/<str:key>/<int:number>/comment/", refinement_pages.comment_add, name="item-comment"),
    path("p/<str:key>/<int:number>/watch/", notifications_pages.item_watch, name="item-watch"),
    path("p/<str:key>/<int:number>/split/", refinement_pages.split_page, name="item-split"),
    path("p/<str:key>/<int:number>/answer/", refinement_pages.answer, name="item-answer"),
    path("p/<str:key>/<int:number>/review/", refinement_pages.review_decide, name="review-decide"),
]

urlpatterns = [
    *pages,
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),  # asked for by browsers
    path("", include("delivery.urls")),
    path("", include("search.urls")),
    *webhook_urls.pages,
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = "config.api.not_found"
