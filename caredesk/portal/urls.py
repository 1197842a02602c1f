from django.conf import settings
from django.contrib.auth import views as auth
from django.urls import path, reverse_lazy

from caredesk.portal import downloads, views

app_name = "portal"
RESET = "registration/password_reset"
urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.SignInView.as_view(), name="signin"),
    path("signout/", auth.LogoutView.as_view(), name="signout"),
    path(
        "password/reset/",
        auth.PasswordResetView.as_view(
            template_name=f"{RESET}_form.html",
            subject_template_name=f"{RESET}-subject.txt",
            email_template_name=f"{RESET}-body.txt",
            html_email_template_name=f"{RESET}-body.html",
            success_url=reverse_lazy("portal:password_reset_sent"),
            # Links name the configured address, never the request's Host header.
            extra_email_context={"base_url": settings.BASE_URL},
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth.PasswordResetDoneView.as_view(template_name=f"{RESET}_sent.html"),
        name="password_reset_sent",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(
            template_name=f"{RESET}_confirm.html",
            success_url=reverse_lazy("portal:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth.PasswordResetCompleteView.as_view(template_name=f"{RESET}_complete.html"),
        name="password_reset_complete",
    ),
    path("requests/", views.request_list, name="requests"),
    path("requests/<str:number>/", views.request_detail, name="request"),
    path("requests/<str:number>/attachments/<int:pk>/", downloads.attachment, name="attachment"),
]
