from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import path

from chat import views as chat_views
from echo import views as echo_views

urlpatterns = [
    path("", echo_views.echo, name="echo"),
    path("chat/", chat_views.room, name="chat"),
    path("chat/<slug:room>/", chat_views.room, name="chat-room"),
    path("announce/", chat_views.announce, name="announce"),
    path("notify/", chat_views.notify, name="notify"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]

# In DEBUG, static files under any server (gunicorn too; runserver_sio serves them before any
# URL is matched); in production, nginx serves collectstatic's folder (nginx.conf).
urlpatterns += staticfiles_urlpatterns()
