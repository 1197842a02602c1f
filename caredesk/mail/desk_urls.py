from django.urls import path

from caredesk.mail import views

app_name = "mail"
urlpatterns = [
    path("<int:email_id>/", views.original, name="original"),
    path("<int:email_id>/original.eml", views.download, name="download"),
]
