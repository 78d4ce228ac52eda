from django.shortcuts import render
from django.urls import path


def page(template, **context):
    return lambda request: render(request, template, context)


urlpatterns = [
    path("", page("tutorial.html")),                  # the tutorial's page, as written
    path("polling/", page("tutorial_polling.html")),  # the same with websocket disabled
    path("v4/", page("v4.html")),                     # a page moved to socket.io-client 4.x
    # one page per client generation, keeping what /echo broadcasts (test_three_generations.py)
    path("generations/0.9/", page("generations.html", client="0.9")),
    path("generations/2.x/", page("generations.html", client="2.x")),
    path("generations/4.x/", page("generations.html", client="4.x")),
]
