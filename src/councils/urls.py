from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import set_language

from councils.accounts import views as accounts
from councils.api import api
from councils.assemblies import views as assemblies
from councils.decisions import feeds
from councils.decisions import views as decisions
from councils.economy import views as economy
from councils.federation import remote_views
from councils.federation import views as federation
from councils.web import views as web

urlpatterns = [
    # First: Django tries the patterns in order, and the API answers the most requests (a ballot at a close).
    path("api/", api.urls),
    path("", web.home, name="home"),
    path("language/", set_language, name="set_language"),
    # The words of the site's scripts (the record check) in the reader's language: Django's catalogue as a script.
    path("signup/", accounts.sign_up, name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", accounts.profile, name="profile"),
    path("profile/email/", accounts.change_email, name="email-change"),
    path("profile/email/verify/<str:token>/", accounts.verify_email, name="email-verify"),
    path("profile/password/", accounts.PasswordChangeView.as_view(), name="password-change"),
    path("password-reset/", accounts.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
         name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", accounts.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
         name="password-reset-complete"),
    path("profile/tokens/", accounts.create_token, name="token-create"),
    path("profile/notifications/", accounts.notifications, name="notifications"),
    path("profile/sessions/end-others/", accounts.end_other_sessions, name="end-other-sessions"),
    path("profile/tokens/<int:token_id>/revoke/", accounts.revoke_token, name="token-revoke"),
    path("profile/keys/", accounts.keys, name="keys"),
    path("profile/keys/<str:key_id>/revoke/", accounts.revoke_key, name="key-revoke"),
    path("councils/", assemblies.council_list, name="council-list"),
    path("congresses/", web.congresses, name="congresses"),
    path("councils/new/", assemblies.council_create, name="council-create"),
    path("c/<slug:slug>/", assemblies.council_detail, name="council"),
    path("c/<slug:slug>/join/", assemblies.join, name="council-join"),
    path("c/<slug:slug>/leave/", assemblies.leave, name="council-leave"),
    path("c/<slug:slug>/record/", assemblies.council_record, name="council-record"),
    path("c/<slug:slug>/export.zip", assemblies.council_export, name="council-export"),
    path("c/<slug:slug>/calendar.ics", feeds.council_calendar, name="council-calendar"),
    path("c/<slug:slug>/proposals/new/", decisions.proposal_create, name="proposal-create"),
    path("c/<slug:slug>/charter/change/", decisions.charter_change, name="charter-change"),
    path("c/<slug:slug>/p/<int:pk>/", decisions.proposal_detail, name="proposal"),
    path("c/<slug:slug>/p/<int:pk>/vote/", decisions.vote, name="proposal-vote"),
    path("c/<slug:slug>/p/<int:pk>/comment/", decisions.comment, name="proposal-comment"),
    path("c/<slug:slug>/p/<int:pk>/amend/", decisions.amend, name="proposal-amend"),
    path("c/<slug:slug>/p/<int:pk>/accept/", decisions.accept_amendment, name="proposal-accept"),
    path("c/<slug:slug>/p/<int:pk>/publish/", decisions.publish, name="proposal-publish"),
    path("c/<slug:slug>/p/<int:pk>/withdraw/", decisions.withdraw, name="proposal-withdraw"),
    path("c/<slug:slug>/p/<int:pk>/schedule/", decisions.schedule, name="proposal-schedule"),
    path("c/<slug:slug>/p/<int:pk>/fallback/", decisions.fallback, name="proposal-fallback"),
    path("c/<slug:slug>/p/<int:pk>/minority-report/", decisions.minority_report, name="proposal-minority-report"),
    path("c/<slug:slug>/p/<int:pk>/ballots.<str:fmt>", decisions.download_ballots, name="proposal-ballots"),
    path("c/<slug:slug>/comments/<int:comment_id>/hide/", decisions.hide_comment, name="comment-hide"),
    path("c/<slug:slug>/comments/<int:comment_id>/appeal/", decisions.appeal_comment, name="comment-appeal"),
    path("c/<slug:slug>/comments/<int:comment_id>/report/", decisions.report_comment, name="comment-report"),
    path("c/<slug:slug>/p/<int:pk>/report/", decisions.report_proposal, name="proposal-report"),
    path("c/<slug:slug>/p/<int:pk>/hide/", decisions.hide_proposal, name="proposal-hide"),
    path("c/<slug:slug>/p/<int:pk>/appeal/", decisions.appeal_proposal, name="proposal-appeal"),
    path("c/<slug:slug>/federation/proposals/new/", federation.federation_proposal_create, name="federation-proposal-create"),
    path("c/<slug:slug>/p/<int:pk>/free-vote/", federation.free_vote, name="federation-free-vote"),
    path("c/<slug:slug>/petitions/new/", federation.petition_create, name="petition-create"),
    path("c/<slug:slug>/petitions/<int:pk>/sign/", federation.petition_sign, name="petition-sign"),
    path("delegates/<int:pk>/", federation.delegate_detail, name="delegate"),
    path("delegates/<int:pk>/recall/", federation.recall_open, name="recall-open"),
    path("recall-petitions/<int:pk>/sign/", federation.recall_sign, name="recall-sign"),
    # Congresses: the routes are listed in councils.federation.congress_views.urlpatterns (what include() would return).
    path("", ("councils.federation.congress_views", None, None)),
    path("c/<slug:slug>/economy/", economy.economy, name="economy"),
    path("c/<slug:slug>/economy/catalogue/", economy.propose_catalogue_change, name="economy-catalogue"),
    path("c/<slug:slug>/economy/periods/propose/", economy.propose_plan_period, name="economy-period-propose"),
    path("c/<slug:slug>/economy/capabilities/", economy.record_capability, name="economy-capability"),
    path("c/<slug:slug>/economy/capabilities/<int:pk>/remove/", economy.remove_capability, name="economy-capability-remove"),
    path("c/<slug:slug>/economy/capabilities/import/", economy.import_capabilities, name="economy-import"),
    path("c/<slug:slug>/economy/hours/", economy.record_working_hours, name="economy-hours"),
    path("c/<slug:slug>/economy/needs/", economy.set_draft_need, name="economy-need"),
    path("c/<slug:slug>/economy/needs/<int:product>/remove/", economy.remove_draft_need, name="economy-need-remove"),
    path("c/<slug:slug>/economy/needs/propose/", economy.propose_needs, name="economy-needs-propose"),
    path("c/<slug:slug>/plan/<int:pk>/", economy.plan_period, name="plan_period"),
    path("c/<slug:slug>/plan/<int:pk>/mode/", economy.set_planning_mode, name="plan-mode"),
    path("c/<slug:slug>/plan/<int:pk>/revise/", economy.submit_hand_proposal, name="plan-revise"),
    path("c/<slug:slug>/plan/<int:pk>/economy.json", economy.economy_file, name="plan-economy-file"),
    path(".well-known/councils-server", remote_views.well_known, name="councils-server"),
    path("servers/", remote_views.servers, name="servers"),
    path("api/federation/inbox", remote_views.inbox, name="federation-inbox"),
]

handler400 = "councils.web.views.bad_request"
handler403 = "councils.web.views.permission_denied"
handler404 = "councils.web.views.page_not_found"
handler500 = "councils.web.views.server_error"
