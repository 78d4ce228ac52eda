from django.contrib.auth import authenticate, login, logout
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wsgi_sio.django import get_server


@csrf_exempt
def announce(request):
    """Emit from an ordinary view to a room, or to the whole namespace."""
    room = request.POST.get("room") or None
    get_server().emit("announcement", request.POST["text"], to=room, namespace="/private")
    return JsonResponse({"sent": True})


def set_colour(request):
    request.session["colour"] = request.GET["colour"]
    return HttpResponse("ok")


@csrf_exempt
@require_POST
def log_in(request):
    """The site's login (the live tests log in as a browser would: a real session cookie)."""
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is None:
        return JsonResponse({"user": None}, status=403)
    login(request, user)
    return JsonResponse({"user": user.get_username()})


@csrf_exempt
@require_POST
def log_out(request):
    logout(request)
    return JsonResponse({"user": None})


urlpatterns = [
    path("announce/", announce),
    path("colour/", set_colour),
    path("login/", log_in),
    path("logout/", log_out),
]
