"""Lost visitors get the site's own pages with a way back; congresses can be found from anywhere."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_404_has_the_layout_and_a_way_back(clock):
    response = Client().get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and 'class="top"' in html and reverse("home") in html and "favicon.svg" in html


def test_403_has_the_layout_and_a_way_back(clock, make_user, make_council):
    # A browser form sent without its CSRF token is refused with the site's 403 page.
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    response = client.post(reverse("council-create"), {"name": "X"})
    assert response.status_code == 403 and "This form has expired" in response.content.decode()
    assert 'class="top"' in response.content.decode()


def test_500_page_is_styled_and_needs_nothing_that_can_fail(clock, rf):
    from councils.web.views import server_error

    response = server_error(rf.get("/"))
    html = response.content.decode()
    assert response.status_code == 500 and "Something went wrong" in html and "councils.css" in html


def test_permission_denied_view_is_the_sites_page(clock, rf):
    from django.contrib.auth.models import AnonymousUser

    from councils.web.views import permission_denied

    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    response = permission_denied(request)
    assert response.status_code == 403 and "Not allowed" in response.content.decode()


def test_favicon_is_linked_from_every_page(clock):
    assert 'rel="icon"' in Client().get("/").content.decode()


def test_congresses_are_in_the_navigation(clock, federation_of, members_of):
    federation, _ = federation_of([2])
    home = Client().get("/").content.decode()
    assert f'href="{reverse("congresses")}"' in home
    page = Client().get(reverse("congresses")).content.decode()
    assert reverse("congress-list", args=[federation.slug]) in page
    assert reverse("congress-list", args=[federation.slug]) in Client().get(federation.get_absolute_url()).content.decode()
