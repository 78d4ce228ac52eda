from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

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


urlpatterns = [
    path("announce/", announce),
    path("colour/", set_colour),
]
