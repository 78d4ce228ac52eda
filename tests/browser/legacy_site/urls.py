from django.shortcuts import render
from django.urls import path


def page(template):
    return lambda request: render(request, template)


urlpatterns = [
    path("", page("tutorial.html")),                  # the tutorial's page, as written
    path("polling/", page("tutorial_polling.html")),  # the same with websocket disabled
    path("v4/", page("v4.html")),                     # a page moved to socket.io-client 4.x
]
