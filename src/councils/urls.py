from django.contrib.auth import views as auth_views
from django.urls import path

from councils.accounts import views as accounts
from councils.api import api
from councils.assemblies import views as assemblies
from councils.decisions import views as decisions
from councils.record import views as record
from councils.web import views as web

urlpatterns = [
    path("", web.home, name="home"),
    path("signup/", accounts.sign_up, name="signup"),
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", accounts.profile, name="profile"),
    path("profile/tokens/", accounts.create_token, name="token-create"),
    path("profile/tokens/<int:token_id>/revoke/", accounts.revoke_token, name="token-revoke"),
    path("councils/", assemblies.council_list, name="council-list"),
    path("councils/new/", assemblies.council_create, name="council-create"),
    path("c/<slug:slug>/", assemblies.council_detail, name="council"),
    path("c/<slug:slug>/join/", assemblies.join, name="council-join"),
    path("c/<slug:slug>/leave/", assemblies.leave, name="council-leave"),
    path("c/<slug:slug>/record/", record.council_record, name="council-record"),
    path("c/<slug:slug>/proposals/new/", decisions.proposal_create, name="proposal-create"),
    path("c/<slug:slug>/p/<int:pk>/", decisions.proposal_detail, name="proposal"),
    path("c/<slug:slug>/p/<int:pk>/vote/", decisions.vote, name="proposal-vote"),
    path("c/<slug:slug>/p/<int:pk>/comment/", decisions.comment, name="proposal-comment"),
    path("api/", api.urls),
]
